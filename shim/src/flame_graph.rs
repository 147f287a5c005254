//! Renders folded stacks (what the flame layer writes) to an SVG with `inferno`.
//!
//! Two styles: a **flame graph** merges identical stacks and sorts them by name, so the widest
//! frames are where the time went; a **flame chart** keeps the recorded order, so the x axis is
//! time (each thread's stacks in order, one thread after another).
//!
//! ```no_run
//! use tracing_bridge::flame_graph::{render_svg, FlameGraphOptions, FlameStyle};
//!
//! let options = FlameGraphOptions { style: FlameStyle::Chart, ..Default::default() };
//! render_svg("fib.folded".as_ref(), "fib.svg".as_ref(), &options)?;
//! # Ok::<(), tracing_bridge::Error>(())
//! ```

use std::{fs, io::Write, path::Path};

use inferno::flamegraph::{self, Direction, Options};
use serde::Deserialize;

use crate::{
    error::{Error, ErrorKind},
    util::create_truncated,
};

/// How to draw the folded stacks. Every field has a default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlameGraphOptions {
    /// Merged flame graph (default) or time-ordered flame chart.
    #[serde(default)]
    pub style: FlameStyle,
    /// The title at the top; default "Flame Graph" or "Flame Chart".
    #[serde(default)]
    pub title: Option<String>,
    /// A second line under the title.
    #[serde(default)]
    pub subtitle: Option<String>,
    /// Image width in pixels; default 1200.
    #[serde(default)]
    pub width: Option<usize>,
    /// Frames narrower than this percentage of the whole are left out; default 0.1.
    #[serde(default)]
    pub min_width: Option<f64>,
    /// Draw an icicle graph: roots at the top, stacks growing down.
    #[serde(default)]
    pub inverted: bool,
    /// What the numbers count; default "ns" (the flame layer records nanoseconds).
    #[serde(default)]
    pub count_name: Option<String>,
}

/// Flame graph or flame chart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FlameStyle {
    /// Identical stacks merged, sorted by name: where the time went.
    #[default]
    Graph,
    /// Stacks in recorded order: when the time went.
    Chart,
}

/// One render call as it crosses the C ABI: `{"folded": "...", "svg": "...", "options": {...}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RenderRequest {
    pub(crate) folded: std::path::PathBuf,
    pub(crate) svg: std::path::PathBuf,
    #[serde(default)]
    pub(crate) options: FlameGraphOptions,
}

impl RenderRequest {
    pub(crate) fn from_json(json: &str) -> Result<Self, Error> {
        crate::config::from_json_document(json, "flame graph request")
    }
}

/// Reads the folded stacks at `folded` and writes an SVG to `svg` (created or truncated).
pub fn render_svg(folded: &Path, svg: &Path, options: &FlameGraphOptions) -> Result<(), Error> {
    let text = fs::read_to_string(folded).map_err(|error| {
        Error::new(
            ErrorKind::FileNotReadable,
            format!(
                "cannot read the folded stacks `{}`: {error}; give the `path` a flame layer wrote",
                folded.display()
            ),
        )
    })?;
    let lines = stack_lines(&text, options.style);
    let mut rendered = Vec::new();
    let result = flamegraph::from_lines(
        &mut inferno_options(options),
        lines.iter().map(String::as_str),
        &mut rendered,
    );
    if let Err(error) = result {
        // inferno's only way of saying that no line held a stack with a count.
        let no_stacks = error.to_string().contains("No stack counts found");
        return Err(if no_stacks {
            Error::new(
                ErrorKind::NoStacks,
                format!(
                    "`{}` holds no stacks: the flame layer recorded no span (was a span entered \
                     while it was installed? check its filter)",
                    folded.display()
                ),
            )
        } else {
            Error::new(
                ErrorKind::FileNotReadable,
                format!("cannot render `{}`: {error}", folded.display()),
            )
        });
    }
    let mut file = create_truncated(svg, "svg")?;
    file.write_all(&rendered).map_err(|error| {
        Error::new(
            ErrorKind::FileNotWritable,
            format!("svg: cannot write `{}`: {error}", svg.display()),
        )
    })
}

/// The folded lines as inferno reads them: `tracing-flame` separates frames with `"; "`, which
/// would put a space before every frame name. For a chart, each root's (thread's) lines are
/// kept together in recorded order, roots in order of appearance, and the whole list is
/// reversed, because inferno draws a flame chart's last line leftmost.
fn stack_lines(text: &str, style: FlameStyle) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| line.replace("; ", ";"))
        .collect();
    if style == FlameStyle::Chart {
        let mut roots: Vec<String> = Vec::new();
        for line in &lines {
            if !roots.iter().any(|root| root == root_frame(line)) {
                roots.push(root_frame(line).to_owned());
            }
        }
        lines.sort_by_key(|line| roots.iter().position(|root| root == root_frame(line)));
        lines.reverse();
    }
    lines
}

fn root_frame(line: &str) -> &str {
    let stack = line.rsplit_once(' ').map_or(line, |(stack, _count)| stack);
    stack.split(';').next().unwrap_or(stack)
}

fn inferno_options(options: &FlameGraphOptions) -> Options<'static> {
    let mut inferno = Options::default();
    inferno.flame_chart = options.style == FlameStyle::Chart;
    inferno.title = options.title.clone().unwrap_or_else(|| {
        match options.style {
            FlameStyle::Graph => "Flame Graph",
            FlameStyle::Chart => "Flame Chart",
        }
        .to_owned()
    });
    inferno.subtitle = options.subtitle.clone();
    inferno.image_width = options.width;
    if let Some(min_width) = options.min_width {
        inferno.min_width = min_width;
    }
    if options.inverted {
        inferno.direction = Direction::Inverted;
    }
    inferno.count_name = options
        .count_name
        .clone()
        .unwrap_or_else(|| "ns".to_owned());
    // Colours from a hash of the name, so the same input always renders the same picture.
    inferno.hash = true;
    inferno.deterministic = true;
    inferno
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_lose_the_space_after_separators() {
        let lines = stack_lines("main; a; b 10\n\nmain; a 5\n", FlameStyle::Graph);
        assert_eq!(lines, ["main;a;b 10", "main;a 5"]);
    }

    #[test]
    fn a_chart_groups_threads_in_order_of_appearance_reversed_for_inferno() {
        let text = "t2; a 1\nt10; x 2\nt2; b 3\nt10; y 4\nt2 5\n";
        let lines = stack_lines(text, FlameStyle::Chart);
        assert_eq!(lines, ["t10;y 4", "t10;x 2", "t2 5", "t2;b 3", "t2;a 1"]);
    }

    #[test]
    fn unknown_style_is_named() {
        let error =
            RenderRequest::from_json(r#"{"folded":"a","svg":"b","options":{"style":"icicle"}}"#)
                .unwrap_err();
        assert!(
            error.message().contains("options.style"),
            "{}",
            error.message()
        );
        assert!(error.message().contains("`chart`"), "{}", error.message());
    }
}
