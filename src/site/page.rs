//! The frame every page shares: head, stylesheet, the link home. No script anywhere: the site
//! is read as it is, from `file://` or from GitHub Pages.

use maud::{DOCTYPE, Markup, html};

/// The stylesheet's file name in the site's root.
pub(crate) const STYLESHEET: &str = "style.css";

/// A whole page. `up` is the relative path from the page to the site's root (`""` or
/// `"../../"`), which every link home and to the stylesheet starts with.
pub(crate) fn page(title: &str, up: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                // No favicon request: a missing one is a failed load in a browser's console.
                link rel="icon" href="data:,";
                link rel="stylesheet" href={ (up) (STYLESHEET) };
            }
            body {
                header {
                    nav { a href={ (up) "index.html" } { "stagebench: all nights" } }
                }
                main { (body) }
            }
        }
    }
}

/// A chart as wide as the column, linked to its own file: a wide chart (the stage timeline)
/// shrinks to the column's width, and its file opens it at full size, text still as text.
/// Lazy: a night page holds half a dozen charts, and only those scrolled near are fetched.
pub(crate) fn chart(src: &str, alt: &str) -> Markup {
    html! {
        a.chart href=(src) { img.chart src=(src) alt=(alt) loading="lazy"; }
    }
}

/// The stylesheet: readable widths, charts as wide as the column, tables that scroll.
pub(crate) const STYLE_CSS: &str = r#"body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 0 auto; max-width: 72rem; padding: 0 1rem 3rem; color: #222; line-height: 1.45; }
header nav { padding: .75rem 0; border-bottom: 1px solid #ddd; margin-bottom: 1rem; }
a { color: #0b57d0; }
a.chart { display: block; }
img.chart { display: block; width: 100%; height: auto; margin: .5rem 0 1.5rem; border: 1px solid #eee; }
table { border-collapse: collapse; display: block; overflow-x: auto; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.slower td { background: #fdecea; }
tr.faster td { background: #e8f5e9; }
.warning { border: 2px solid #c62828; background: #fdecea; padding: .5rem 1rem; margin: 1rem 0; }
pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: .75rem; overflow-x: auto; }
code { font-size: .9em; }
ul.nights { columns: 16rem; }
"#;
