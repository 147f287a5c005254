//! The flame layer's folded stacks, and their rendering to SVG. One flame layer records at a
//! time per process, so the tests take turns (a mutex).

use std::{collections::BTreeSet, fs, path::Path, sync::Mutex};

use quick_xml::{events::Event, Reader};
use tracing_bridge::{
    flame_graph::{render_svg, FlameGraphOptions, FlameStyle},
    ErrorKind, Session,
};

static FLAME: Mutex<()> = Mutex::new(());

fn flame_config(path: &Path, extra: &str) -> String {
    format!(
        r#"{{"filter":"trace","layers":[{{"kind":"flame","path":{}{extra}}}]}}"#,
        serde_json::to_string(path).unwrap()
    )
}

#[tracing::instrument]
fn fib(index: u32) -> u64 {
    if index < 2 {
        u64::from(index)
    } else {
        fib(index - 1) + fib(index - 2)
    }
}

fn record_fib(path: &Path, extra: &str, index: u32) {
    let mut session = Session::from_json(&flame_config(path, extra)).unwrap();
    session.install_current_thread().unwrap();
    fib(index);
    session.uninstall().unwrap();
}

/// `(stack without the thread frame, count)` per line.
fn folded_lines(path: &Path) -> Vec<(String, u64)> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let (stack, count) = line.rsplit_once(' ').unwrap();
            let frames: Vec<_> = stack.split("; ").skip(1).collect();
            (frames.join(";"), count.parse().unwrap())
        })
        .collect()
}

/// The `<title>` of every frame in the SVG, checking that the document is well-formed XML.
fn frame_titles(svg: &str) -> Vec<String> {
    let mut reader = Reader::from_str(svg);
    let mut titles = Vec::new();
    let mut in_frames = false;
    let mut in_title = false;
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|error| panic!("not XML: {error}"))
        {
            Event::Start(start) if start.name().as_ref() == b"svg" => {
                in_frames |= start
                    .attributes()
                    .any(|attribute| attribute.unwrap().value.as_ref() == b"frames");
            }
            Event::Start(start) if in_frames && start.name().as_ref() == b"title" => {
                in_title = true;
            }
            Event::Text(text) if in_title => {
                titles.push(text.xml10_content().unwrap().into_owned());
                in_title = false;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    titles
}

#[test]
fn folded_stacks_hold_the_nested_spans_with_nanosecond_counts() {
    let _one = FLAME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fib.folded");
    record_fib(&path, "", 3);
    let lines = folded_lines(&path);
    let stacks: BTreeSet<_> = lines.iter().map(|(stack, _)| stack.as_str()).collect();
    // fib(3) -> fib(2) -> fib(1), fib(0); fib(3) -> fib(1)
    let expected = [
        "flame_layer::fib",
        "flame_layer::fib;flame_layer::fib",
        "flame_layer::fib;flame_layer::fib;flame_layer::fib",
    ];
    assert_eq!(stacks, expected.into_iter().collect(), "{lines:?}");
    assert!(lines.iter().all(|(_, count)| *count > 0), "{lines:?}");
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("flame_layer.rs"),
        "no file and line by default"
    );
}

#[test]
fn a_flame_graph_has_one_frame_per_distinct_stack() {
    let _one = FLAME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let folded = dir.path().join("fib.folded");
    let svg = dir.path().join("fib.svg");
    record_fib(&folded, r#","threadsCollapsed":true"#, 6);
    let options = FlameGraphOptions {
        min_width: Some(0.0),
        ..Default::default()
    };
    render_svg(&folded, &svg, &options).unwrap();
    let titles = frame_titles(&fs::read_to_string(&svg).unwrap());
    // "all", the thread frame, then fib nested 1 to 6 deep: 8 distinct stacks.
    assert_eq!(titles.len(), 8, "{titles:#?}");
    assert!(titles[0].starts_with("all ("), "{}", titles[0]);
    assert!(titles
        .iter()
        .any(|title| title.starts_with("all-threads (")));
    assert_eq!(
        titles
            .iter()
            .filter(|t| t.starts_with("flame_layer::fib ("))
            .count(),
        6
    );
    assert!(titles[0].contains(" ns, 100%)"), "{}", titles[0]);
}

#[test]
fn a_flame_chart_keeps_calls_apart_in_time_order() {
    let _one = FLAME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let folded = dir.path().join("fib.folded");
    let chart = dir.path().join("chart.svg");
    record_fib(&folded, r#","threadsCollapsed":true"#, 4);
    let options = FlameGraphOptions {
        style: FlameStyle::Chart,
        min_width: Some(0.0),
        ..Default::default()
    };
    render_svg(&folded, &chart, &options).unwrap();
    let svg = fs::read_to_string(&chart).unwrap();
    assert!(
        svg.contains(">Flame Chart<"),
        "default title names the style"
    );
    let fib_frames = frame_titles(&svg)
        .iter()
        .filter(|title| title.starts_with("flame_layer::fib ("))
        .count();
    // Unmerged: one frame per call of fib(4), i.e. 9 calls.
    assert_eq!(fib_frames, 9);
}

#[test]
fn rendering_errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let options = FlameGraphOptions::default();
    let missing = render_svg(
        &dir.path().join("none.folded"),
        &dir.path().join("x.svg"),
        &options,
    )
    .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::FileNotReadable);
    assert!(
        missing.message().contains("none.folded"),
        "{}",
        missing.message()
    );

    let empty = dir.path().join("empty.folded");
    fs::write(&empty, "").unwrap();
    let error = render_svg(&empty, &dir.path().join("x.svg"), &options).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoStacks);
    assert!(!dir.path().join("x.svg").exists(), "no half-written SVG");

    fs::write(&empty, "main;work 10\n").unwrap();
    let error = render_svg(&empty, &dir.path().join("no/dir/x.svg"), &options).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FileNotWritable);
}

#[test]
fn only_one_flame_layer_records_at_a_time() {
    let _one = FLAME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let first = Session::from_json(&flame_config(&dir.path().join("a.folded"), "")).unwrap();
    let second = dir.path().join("b.folded");
    let error = Session::from_json(&flame_config(&second, "")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    assert!(
        error.message().contains("another flame layer"),
        "{}",
        error.message()
    );
    assert!(!second.exists(), "a refused layer creates no file");
    drop(first);
    Session::from_json(&flame_config(&second, "")).unwrap();
}

#[test]
fn an_unwritable_path_is_a_typed_error() {
    let _one = FLAME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let error = Session::from_json(&flame_config(&dir.path().join("no/x.folded"), "")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FileNotWritable);
    assert!(
        error.message().starts_with("layers[0].path: directory"),
        "{}",
        error.message()
    );
    // The refusal released the one-at-a-time admission.
    Session::from_json(&flame_config(&dir.path().join("ok.folded"), "")).unwrap();
}

#[test]
fn a_threads_first_sample_does_not_count_the_time_before_it() {
    let _one = FLAME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("threads.folded");
    let mut session = Session::from_json(&flame_config(&path, "")).unwrap();
    session.install_global().unwrap();
    let parent = tracing::info_span!("parent");
    std::thread::sleep(std::time::Duration::from_millis(60));
    let child_parent = parent.clone();
    std::thread::Builder::new()
        .name("late".into())
        .spawn(move || {
            tracing::info_span!(parent: &child_parent, "child").in_scope(|| fib(2));
        })
        .unwrap()
        .join()
        .unwrap();
    session.uninstall().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("-late; flame_layer::parent; flame_layer::child;"),
        "{text}"
    );
    for (stack, count) in folded_lines(&path) {
        assert!(
            count < 50_000_000,
            "{stack} counts {count} ns, the sleep before the thread"
        );
    }
}

/// The `x` percentage of the frame whose title starts with `name`.
fn frame_x(svg: &str, name: &str) -> f64 {
    let start = svg.find(&format!("<title>{name} (")).unwrap();
    let x = &svg[start..][svg[start..].find("x=\"").unwrap() + 3..];
    x[..x.find('%').unwrap()].parse().unwrap()
}

#[test]
fn a_flame_chart_reads_left_to_right_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let folded = dir.path().join("order.folded");
    fs::write(
        &folded,
        "main; first 10\nworker; early 5\nmain; second 20\nworker; late 5\n",
    )
    .unwrap();
    let chart = dir.path().join("order.svg");
    let options = FlameGraphOptions {
        style: FlameStyle::Chart,
        ..Default::default()
    };
    render_svg(&folded, &chart, &options).unwrap();
    let svg = fs::read_to_string(&chart).unwrap();
    assert!(frame_x(&svg, "first") < frame_x(&svg, "second"));
    assert!(frame_x(&svg, "early") < frame_x(&svg, "late"));
    assert!(
        frame_x(&svg, "main") < frame_x(&svg, "worker"),
        "threads in order of appearance"
    );
}

#[test]
fn a_write_failure_names_the_layer_and_its_file() {
    let _turn = FLAME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut session = Session::from_json(&flame_config(Path::new("/dev/full"), "")).unwrap();
    session.install_current_thread().unwrap();
    fib(8);
    let error = session.flush().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FileNotWritable);
    assert!(
        error
            .message()
            .starts_with("flame layer layers[0]: `/dev/full`: cannot write the folded stacks: No space left on device"),
        "{}",
        error.message()
    );
    let _ = session.uninstall();
}

/// The stack depths tracing-flame writes for `fib(index)` (a sample of the stack below a span
/// when it is entered, unless it is the root; of the stack with it when it is left).
fn expected_depths(index: u32, depth: usize, out: &mut Vec<usize>) {
    if depth > 0 {
        out.push(depth);
    }
    if index >= 2 {
        expected_depths(index - 1, depth + 1, out);
        expected_depths(index - 2, depth + 1, out);
    }
    out.push(depth + 1);
}

#[test]
fn many_samples_keep_their_order_across_buffers_and_flushes() {
    let _turn = FLAME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.folded");
    let mut session = Session::from_json(&flame_config(&path, "")).unwrap();
    session.install_current_thread().unwrap();
    // fib(17) makes 5 167 calls, 10 333 samples: more than two of a thread's buffers.
    fib(8);
    session.flush().unwrap();
    fib(17);
    session.uninstall().unwrap();
    let mut expected = Vec::new();
    expected_depths(8, 0, &mut expected);
    // Between the two calls: the time outside any span is not recorded (no empty samples).
    expected_depths(17, 0, &mut expected);
    let depths: Vec<usize> = folded_lines(&path)
        .iter()
        .map(|(stack, count)| {
            assert!(*count > 0);
            stack.split(';').count()
        })
        .collect();
    assert_eq!(depths.len(), expected.len());
    assert!(depths == expected, "the samples are out of order");
}
