//! `DeskOptions::flamegraphs` (`dev --flamegraph`): each profiled delivery's graph is
//! written in the data directory, linked from the plugin page's delivery log and
//! served as an SVG that runs no script; the last few of each plugin are kept.
#![cfg(feature = "web")]

use std::path::Path;
use std::sync::{Arc, Mutex};

use otai_plugin_desk::web::WebState;
use otai_plugin_desk::{Desk, DeskOptions, FLAMEGRAPH_DIR, FlameGraphs};
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::Module;
use serde_json::json;

use crate::common::{Running, agent, spawn};

const ID: &str = "com.example.profiled";

/// A plugin that loops a while, so that its delivery has samples.
fn plugin() -> Vec<u8> {
    Module::new()
        .body(
            r#"(func $on_event (export "on_event") (param i32 i32) (local $i i32)
    (loop $turn
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $turn (i32.lt_u (local.get $i) (i32.const 50)))))"#,
        )
        .manifest(
            &json!({
                "id": ID, "name": "Profiled", "version": "1.0.0",
                "description": "d", "events": ["ticket.created"]
            })
            .to_string(),
        )
        .wasm()
}

/// What the test's drawing was given: the titles, and the folded stacks it drew.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A desk in `dir` with `plugin()` installed, drawing each profile (when `keep` is
/// given) as an SVG that holds its title, its stacks and a script.
fn desk(dir: &Path, keep: Option<u32>) -> (Desk, Seen) {
    let seen = Seen::default();
    let drawn = seen.clone();
    let flamegraphs = keep.map(|keep| {
        FlameGraphs::new(move |profile, title| {
            drawn
                .lock()
                .unwrap()
                .push((title.to_owned(), profile.folded().to_owned()));
            Ok(svg(title).into_bytes())
        })
        .keep(keep)
    });
    let desk = Desk::open_with(
        dir,
        DeskOptions {
            http: Arc::new(MockHttp::new()),
            key: Some("ef".repeat(32)),
            flamegraphs,
            ..DeskOptions::default()
        },
    )
    .unwrap();
    desk.install(&plugin()).unwrap();
    (desk, seen)
}

fn svg(title: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><text>{title}</text></svg>"#
    )
}

fn serve(desk: Desk) -> (String, Running) {
    let state = WebState::with_docker_config(Arc::new(desk), Vec::new(), None);
    spawn(move |port| otai_plugin_desk::web::router(state, port))
}

fn graph_url(seq: i64) -> String {
    format!("/plugins/{ID}/deliveries/{seq}/flamegraph.svg")
}

#[test]
fn a_profiled_delivery_is_drawn_linked_and_served_as_an_svg_that_runs_no_script() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, seen) = desk(dir.path(), Some(5));
    let reports = desk.deliver("ticket.created", "T-1").unwrap();
    assert!(reports[0].outcome.is_ok(), "{reports:?}");
    let log = desk.deliveries(ID, 10).unwrap();
    let seq = log[0].seq;
    assert!(log[0].flamegraph, "{:?}", log[0]);
    {
        let seen = seen.lock().unwrap();
        let [(title, folded)] = seen.as_slice() else {
            panic!("{seen:?}")
        };
        assert_eq!(title, &format!("{ID}: ticket.created"));
        assert!(folded.contains("on_event"), "{folded}");
    }
    let graphs = dir.path().join(FLAMEGRAPH_DIR).join(ID);
    let json = std::fs::read_to_string(graphs.join(format!("{seq}.json"))).unwrap();
    assert_eq!(
        json,
        reports[0].profile.as_ref().unwrap().firefox_json(),
        "the profile is written beside the graph as it is"
    );

    let (base, _running) = serve(desk);
    let mut page = agent().get(&format!("{base}/plugins/{ID}")).call().unwrap();
    let page = page
        .body_mut()
        .read_to_string()
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(
        page.contains(&format!(r#"href="{}""#, graph_url(seq)))
            && page.contains(">flame graph</a>"),
        "{page}"
    );

    let mut response = agent()
        .get(&format!("{base}{}", graph_url(seq)))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| crate::common::header(&response, name);
    assert_eq!(header("content-type"), "image/svg+xml");
    let csp = header("content-security-policy");
    assert!(
        csp.starts_with("default-src 'none'; style-src 'unsafe-inline';")
            && !csp.contains("script-src")
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("x-frame-options"), "DENY");
    let body = response.body_mut().read_to_string().unwrap();
    assert_eq!(body, svg(&format!("{ID}: ticket.created")));
}

#[test]
fn a_delivery_without_a_profile_has_no_link_and_no_graph() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path(), None);
    desk.deliver("ticket.created", "T-1").unwrap();
    let log = desk.deliveries(ID, 10).unwrap();
    assert!(!log[0].flamegraph);
    let seq = log[0].seq;
    assert!(!dir.path().join(FLAMEGRAPH_DIR).exists());
    // A file where a graph would be is not served for a plugin that is not installed,
    // nor under a name that is not a plugin's.
    let planted = dir.path().join(FLAMEGRAPH_DIR).join("com.example.other");
    std::fs::create_dir_all(&planted).unwrap();
    std::fs::write(planted.join("1.svg"), svg("planted")).unwrap();

    let (base, _running) = serve(desk);
    let mut page = agent().get(&format!("{base}/plugins/{ID}")).call().unwrap();
    let page = page.body_mut().read_to_string().unwrap();
    assert!(
        page.contains("ticket.created") && !page.contains("flame graph"),
        "{page}"
    );
    for path in [
        graph_url(seq),
        graph_url(seq + 1),
        "/plugins/com.example.other/deliveries/1/flamegraph.svg".to_owned(),
        "/plugins/..%2Fflamegraphs%2Fcom.example.other/deliveries/1/flamegraph.svg".to_owned(),
        format!("/plugins/{ID}/deliveries/-1/flamegraph.svg"),
    ] {
        let mut response = agent().get(&format!("{base}{path}")).call().unwrap();
        let body = response.body_mut().read_to_string().unwrap();
        assert_eq!(response.status(), 404, "{path}: {body}");
        assert!(!body.contains("planted"), "{path}: {body}");
    }
}

#[test]
fn only_the_last_graphs_of_a_plugin_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (desk, _) = desk(dir.path(), Some(2));
    for n in 0..4 {
        desk.deliver("ticket.created", &format!("T-{n}")).unwrap();
        // Each commit writes its graphs and trims the folder.
        desk.flush().unwrap();
    }
    let log = desk.deliveries(ID, 10).unwrap();
    let with_graph: Vec<(i64, bool)> = log.iter().map(|d| (d.seq, d.flamegraph)).collect();
    assert_eq!(
        with_graph.iter().map(|(_, g)| *g).collect::<Vec<_>>(),
        [true, true, false, false],
        "{with_graph:?}"
    );
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join(FLAMEGRAPH_DIR).join(ID))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut kept: Vec<String> = log[..2]
        .iter()
        .flat_map(|d| [format!("{}.json", d.seq), format!("{}.svg", d.seq)])
        .collect();
    kept.sort();
    assert_eq!(files, kept);
}
