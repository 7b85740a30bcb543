//! A night's report.md as HTML for its page.
//!
//! The report is written for its results folder: its charts are PNGs beside it and its
//! Dockerfiles are linked by the path they had on the machine that ran it. On the site the
//! charts are the text-mode SVGs, the Dockerfiles are pages of their own, and a link to anything
//! the site does not hold becomes plain text rather than a broken link.

use std::collections::BTreeMap;

use maud::html;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html as cmark_html};

use super::page::chart;

/// Where a link of the report leads on the site.
pub(crate) struct LinkTargets<'a> {
    /// Chart files on the night's page: SVG file name -> its title (the `alt` text).
    pub charts: &'a BTreeMap<String, String>,
    /// Other files copied beside the page (CSV, JSON).
    pub data_files: &'a [String],
    /// Dockerfile name as the report links it (its last path component) -> its page.
    pub dockerfiles: &'a BTreeMap<String, String>,
}

/// The report's Markdown as HTML, with links and images pointed at the site's files.
pub(crate) fn report_html(markdown: &str, targets: &LinkTargets<'_>) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM;
    let mut events: Vec<Event<'_>> = Vec::new();
    // Inside an image its alt text arrives as events; the site writes its own <img>.
    let mut in_image = false;
    // Links that lead nowhere on the site lose their tags but keep their text.
    let mut dropped_links: Vec<bool> = Vec::new();
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => {
                in_image = true;
                // A link inside a link is not HTML: an image the report already links keeps
                // that link alone.
                let linked = dropped_links.contains(&false);
                events.push(Event::InlineHtml(CowStr::from(image(
                    &dest_url, targets, linked,
                ))));
            }
            Event::End(TagEnd::Image) => in_image = false,
            _ if in_image => {}
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => match link_target(&dest_url, targets) {
                Some(dest) => {
                    dropped_links.push(false);
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url: CowStr::from(dest),
                        title,
                        id,
                    }));
                }
                None => dropped_links.push(true),
            },
            Event::End(TagEnd::Link) => {
                if !dropped_links.pop().unwrap_or(false) {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(markdown.len() * 2);
    cmark_html::push_html(&mut out, events.into_iter());
    out
}

/// The chart the report shows (linked to its file unless `linked` already), or a note where the
/// site holds no such chart.
fn image(dest: &str, targets: &LinkTargets<'_>, linked: bool) -> String {
    let svg = match dest.strip_suffix(".png") {
        Some(stem) => format!("{stem}.svg"),
        None => dest.to_string(),
    };
    match targets.charts.get(&svg) {
        Some(title) if linked => {
            html! { img src=(svg) alt=(title) class="chart" loading="lazy"; }.into_string()
        }
        Some(title) => chart(&svg, title).into_string(),
        None => html! { em { "(chart " (dest) " is not in this site)" } }.into_string(),
    }
}

/// Where a link leads on the site; `None` when the site has nothing there.
fn link_target(dest: &str, targets: &LinkTargets<'_>) -> Option<String> {
    if dest.starts_with("https://") || dest.starts_with("http://") || dest.starts_with('#') {
        return Some(dest.to_string());
    }
    if targets.data_files.iter().any(|f| f == dest) {
        return Some(dest.to_string());
    }
    let name = dest.rsplit('/').next().unwrap_or(dest);
    targets.dockerfiles.get(name).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_become_svgs_titled_and_unknown_links_become_text() {
        let charts =
            BTreeMap::from([("g-build-time.svg".to_string(), "g: build time".to_string())]);
        let dockerfiles = BTreeMap::from([(
            "single.Dockerfile".to_string(),
            "dockerfile-single.html".to_string(),
        )]);
        let data = ["results.csv".to_string()];
        let targets = LinkTargets {
            charts: &charts,
            data_files: &data,
            dockerfiles: &dockerfiles,
        };
        let md = "![Build time](g-build-time.png)\n\n[rows](results.csv), \
                  [single](../../x/single.Dockerfile), [gone](../elsewhere.txt)\n\n| a |\n|---|\n| <b> |\n";
        let out = report_html(md, &targets);
        assert!(
            out.contains(
                "<a class=\"chart\" href=\"g-build-time.svg\"><img class=\"chart\" \
                 src=\"g-build-time.svg\" alt=\"g: build time\""
            ),
            "{out}"
        );
        assert!(out.contains("<a href=\"results.csv\">rows</a>"), "{out}");
        assert!(
            out.contains("<a href=\"dockerfile-single.html\">single</a>"),
            "{out}"
        );
        assert!(out.contains(" gone"), "{out}");
        assert!(!out.contains("elsewhere"), "{out}");
        assert!(out.contains("<table>"), "{out}");
        // A chart the report links already is not linked again.
        let out = report_html("[![Build time](g-build-time.png)](results.csv)", &targets);
        assert!(
            out.contains(
                "<a href=\"results.csv\"><img src=\"g-build-time.svg\" alt=\"g: build time\""
            ),
            "{out}"
        );
        assert_eq!(out.matches("<a ").count(), 1, "{out}");
    }
}
