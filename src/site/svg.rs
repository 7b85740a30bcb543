//! The site's charts: each SVG given a `<title>` and a `<desc>` as the first children of its
//! `<svg>` element, where screen readers and search engines look for a name and a description.

use crate::report::chart::xml_escape;

/// `svg` with `<title>` and `<desc>` inserted right after its opening `<svg ...>` tag; `svg`
/// unchanged (but for nothing) when it has no such tag.
pub(crate) fn with_title_and_desc(svg: &str, title: &str, desc: &str) -> String {
    let Some(open_end) = svg
        .find("<svg")
        .and_then(|start| svg[start..].find('>').map(|end| start + end + 1))
    else {
        return svg.to_string();
    };
    let mut out = String::with_capacity(svg.len() + title.len() + desc.len() + 40);
    out.push_str(&svg[..open_end]);
    out.push_str("\n<title>");
    out.push_str(&xml_escape(title));
    out.push_str("</title>\n<desc>");
    out.push_str(&xml_escape(desc));
    out.push_str("</desc>");
    out.push_str(&svg[open_end..]);
    out
}

/// What a chart file shows, from its name (`<stem>-<kind>.svg`), in a sentence for `<desc>`.
pub(crate) fn describe(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".svg").unwrap_or(file_name);
    const KINDS: [(&str, &str, &str); 7] = [
        (
            "-build-time",
            "build time",
            "Median build time of each variant in each cache mode, with its 95% interval or range.",
        ),
        ("-image-size", "image size", "Size of each variant's image."),
        (
            "-time-vs-size",
            "build time against image size",
            "Each variant's median build time against its image size, one point per cache mode.",
        ),
        (
            "-timeline",
            "stage timeline",
            "When each step of each variant's build ran, and how long it took.",
        ),
        (
            "-layers",
            "image layers",
            "What each variant's image layers hold, and which Dockerfile step made them.",
        ),
        (
            "-ci",
            "CI cache modes",
            "Build time of each variant in each CI cache mode.",
        ),
        (
            "-history",
            "build time by night",
            "Each night's median build time of each variant, one panel per cache mode, with its \
             95% interval or range; a ring marks a night faster or slower than the one before.",
        ),
    ];
    for (suffix, what, desc) in KINDS {
        if let Some(subject) = stem.strip_suffix(suffix) {
            return format!("{subject}, {what}: {desc}");
        }
    }
    format!("Chart {stem}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_and_desc_are_the_first_children_and_escaped() {
        let svg = "<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>";
        let out = with_title_and_desc(svg, "a <b> & c", "d");
        assert!(out.starts_with(
            "<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\">\n<title>a &lt;b&gt; &amp; c</title>\n<desc>d</desc>\n<rect/>"
        ));
    }

    #[test]
    fn charts_are_described_by_their_kind() {
        assert!(
            describe("go-service-build-time.svg").starts_with("go-service, build time: Median")
        );
        assert!(
            describe("python-node-history.svg").starts_with("python-node, build time by night: ")
        );
        assert_eq!(describe("odd.svg"), "Chart odd.");
    }
}
