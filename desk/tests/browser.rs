//! The web UI in a real browser: headless Chromium driven through chromedriver
//! (WebDriver), both from Debian's packages, started by the test. The panel's page is
//! served by the test and talks to the ticket page by `postMessage`.
#![cfg(feature = "web")]

use crate::common;

use common::webdriver::Driver;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The panel's page: asks the help desk for the ticket, its custom fields, the user,
/// and an action that does not exist, and shows each answer.
const PANEL_PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>Panel</title>
<p id="subject">waiting</p><p id="fields">waiting</p><p id="user">waiting</p><p id="unknown">waiting</p>
<script>
const pending = {};
window.addEventListener("message", (e) => {
  const m = e.data;
  if (m && m.type === "ohd:response" && pending[m.requestId]) pending[m.requestId](m);
});
let n = 0;
function ask(action) {
  return new Promise((resolve) => {
    const requestId = "req-" + (++n);
    pending[requestId] = resolve;
    window.parent.postMessage({ type: "ohd:request", requestId, action }, "*");
  });
}
ask("getTicket").then((m) => { document.getElementById("subject").textContent = "subject: " + m.data.subject; });
ask("getCustomFields").then((m) => { document.getElementById("fields").textContent = "fields: " + JSON.stringify(m.data); });
ask("getCurrentUser").then((m) => { document.getElementById("user").textContent = "user: " + m.data.name + " (" + m.data.role + ")"; });
ask("deleteEverything").then((m) => { document.getElementById("unknown").textContent = "unknown: " + (m.error ? m.error.code : "answered"); });
</script>"#;

/// A page of another site that shows `target` in a frame and says when the frame loaded.
fn framing_page(target: &str) -> String {
    format!(
        r#"<!doctype html><meta charset="utf-8"><title>Win a prize</title>
<p id="loaded">waiting</p>
<iframe id="desk" src="{target}" width="800" height="600"
  onload="document.getElementById('loaded').textContent = 'loaded'"></iframe>"#
    )
}

fn browser_available() -> bool {
    let present =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the browser tests: install Debian's chromium and chromium-driver"
        );
        eprintln!(
            "skipped: {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        );
    }
    present
}

/// Serves the panel page on a free loopback port.
fn serve_panel() -> (String, common::Running) {
    common::spawn(|_| {
        axum::Router::new().route(
            "/p",
            axum::routing::get(|| async { axum::response::Html(PANEL_PAGE) }),
        )
    })
}

#[test]
fn an_admin_configures_the_plugin_and_an_agent_sees_its_panel() {
    if !browser_available() {
        return;
    }
    let (panel_base, _panel) = serve_panel();
    let server = common::start_with(&format!("{panel_base}/"));
    let driver = Driver::start(CHROMEDRIVER);
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.session(json!({
        "binary": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-quic", format!("--user-data-dir={}", profile.path().display())
        ]
    }));

    // The admin: a save without the required secret shows its error by the field.
    browser.goto(&format!("{}/plugins/com.example.web", server.base));
    // The page's own style applies under its Content-Security-Policy.
    assert_eq!(
        browser.css("header").css_value("background-color"),
        "rgba(29, 35, 48, 1)"
    );
    browser.css("#save").click();
    assert!(browser.css("#e-token").text().contains("is required"));
    // Each widget as a person uses it.
    browser.css("#f-token").send_keys("xoxb-browser-secret");
    browser.css("#f-retries").send_keys("3");
    browser.css("#f-loud").click();
    browser.css("#f-region option:nth-child(3)").click();
    browser.css("#save").click();
    browser.css("#saved");
    assert_eq!(browser.css("#s-token").text(), "set");
    let form = server.state.desk.config_form("com.example.web").unwrap();
    let value = |key: &str| form.iter().find(|f| f.key == key).unwrap().value.clone();
    assert_eq!(
        (value("retries"), value("loud"), value("region")),
        (Some(json!(3)), Some(json!(true)), Some(json!("us")))
    );
    assert!(
        !browser.source().contains("xoxb-browser-secret"),
        "the secret came back to the page"
    );
    assert_eq!(
        browser.css("#f-token").attr("type").as_deref(),
        Some("password")
    );

    // The agent: an event fired from the ticket page, then the panel asks by postMessage.
    browser.goto(&format!(
        "{}/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8",
        server.base
    ));
    let subject = browser.css("#subject");
    subject.clear();
    subject.send_keys("Printer on fire");
    browser.css("#send").click();
    // Post/redirect/get: the result is on the ticket's page, each report collapsed to
    // its outcome line until opened; a reload shows it again and delivers nothing.
    let report = browser.css("#delivered details.report summary");
    assert!(
        report
            .text()
            .contains("com.example.web (ticket.created): ok")
    );
    assert!(!browser.css("#delivered").text().contains("hello, desk!"));
    report.click();
    assert!(browser.css("#delivered").text().contains("hello, desk!"));
    assert!(
        browser
            .url()
            .contains("/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8?delivered="),
        "{}",
        browser.url()
    );
    let delivered = || {
        server
            .state
            .desk
            .deliveries("com.example.web", 100)
            .unwrap()
            .len()
    };
    let before = delivered();
    browser.refresh();
    browser.css("#delivered details.report");
    assert_eq!(delivered(), before, "the reload delivered again");
    let frame = browser.css("iframe.ohd-panel");
    assert_eq!(
        frame.attr("sandbox").as_deref(),
        Some("allow-scripts allow-same-origin")
    );
    assert_eq!(frame.attr("height").as_deref(), Some("180"));
    browser.enter_frame(&frame);
    for (id, text) in [
        ("subject", "subject: Printer on fire"),
        ("fields", r#"fields: {"jira":"OPS-7"}"#),
        ("user", "user: Riley Chen (agent)"),
        ("unknown", "unknown: unknown_action"),
    ] {
        browser.xpath(&format!("//p[@id='{id}' and contains(., '{text}')]"));
    }
    browser.leave_frame();

    // The agent opens a new ticket from the ticket list, then adds a reply to it: the
    // form shows the reply's inputs once the event is chosen, and they reach the payload.
    server
        .state
        .desk
        .install(&crate::web_tickets::echo_module())
        .unwrap();
    server.state.desk.enable("com.example.echo").unwrap();
    browser.css("header a[href='/tickets']").click();
    browser.css("#new-ticket #subject").send_keys("VPN is down");
    browser
        .css("#new-ticket #priority option:nth-child(3)")
        .click();
    browser.css("#create").click();
    browser.xpath("//h1[contains(., 'VPN is down') and contains(., 'T-1')]");
    assert!(
        browser.url().contains("/tickets/T-1?delivered="),
        "{}",
        browser.url()
    );
    assert_eq!(
        crate::web_tickets::echoed(&server)["ticket"]["priority"],
        "High"
    );
    assert_eq!(browser.css("#data-reply").css_value("display"), "none");
    browser
        .xpath("//select[@id='event']/option[. = 'ticket.reply_added']")
        .click();
    assert_ne!(browser.css("#data-reply").css_value("display"), "none");
    assert_eq!(browser.css("#data-assigned").css_value("display"), "none");
    let body = browser.css("#data_body");
    body.clear();
    body.send_keys("Restarted the gateway");
    browser.css("#data_is_internal").click();
    browser.css("#send").click();
    // The page before had a `#delivered` too (the new ticket's): wait for this one's.
    browser.xpath("//*[@id='delivered']//summary[contains(., '(ticket.reply_added)')]");
    let reply = crate::web_tickets::echoed(&server);
    assert_eq!(reply["event"], "ticket.reply_added");
    assert_eq!(reply["data"]["body"], "Restarted the gateway");
    assert_eq!(reply["data"]["is_internal"], true);
    // Each other kind with data, as the agent fills its inputs in.
    let choose = |event: &str| {
        browser
            .xpath(&format!("//select[@id='event']/option[. = '{event}']"))
            .click();
    };
    let sent = |event: &str| {
        browser.css("#send").click();
        browser.xpath(&format!(
            "//*[@id='delivered']//summary[contains(., '({event})')]"
        ));
        let payload = crate::web_tickets::echoed(&server);
        assert_eq!(payload["event"], event);
        payload
    };
    choose("ticket.status_changed");
    assert_eq!(browser.css("#data-reply").css_value("display"), "none");
    browser
        .xpath("//select[@id='data_to_status']/option[. = 'In Progress']")
        .click();
    let changed = sent("ticket.status_changed");
    assert_eq!(changed["data"]["from_status"], "New");
    assert_eq!(changed["data"]["to_status"], "In Progress");
    assert_eq!(changed["ticket"]["status"], "In Progress");
    choose("ticket.assigned");
    browser
        .xpath("//select[@id='data_assignee_type']/option[. = 'group']")
        .click();
    // The inputs start from the sample's user; a group has a name and no email.
    let name = browser.css("#data_assignee_name");
    name.clear();
    name.send_keys("Network team");
    browser.css("#data_assignee_email").clear();
    let assigned = sent("ticket.assigned");
    assert_eq!(assigned["data"]["assignee"]["name"], "Network team");
    assert_eq!(assigned["ticket"]["assignee"]["name"], "Network team");
    choose("ticket.resolved");
    let notes = browser.css("#data_resolution_notes");
    notes.clear();
    notes.send_keys("Replaced the router");
    let resolved = sent("ticket.resolved");
    assert_eq!(resolved["data"]["resolution_notes"], "Replaced the router");
    choose("ticket.reopened");
    let reason = browser.css("#data_reason");
    reason.clear();
    reason.send_keys("It dropped again");
    let reopened = sent("ticket.reopened");
    assert_eq!(reopened["data"]["reason"], "It dropped again");
    browser.goto(&format!("{}/tickets", server.base));
    let row = browser.xpath("//tr[contains(., 'VPN is down')]").text();
    assert!(row.contains("ticket.reopened"), "{row}");

    // A page on another local port frames the plugin's page, to have a click on it
    // land on the Disable button: the browser shows it no page of the desk.
    let target = format!("{}/plugins/com.example.web", server.base);
    let (attacker, _attacker) = common::spawn(move |_| {
        axum::Router::new().route(
            "/",
            axum::routing::get(move || async move { axum::response::Html(framing_page(&target)) }),
        )
    });
    browser.goto(&attacker);
    browser.xpath("//p[@id='loaded' and . = 'loaded']");
    browser.enter_frame(&browser.css("#desk"));
    let framed = browser.source();
    assert!(
        !framed.contains("Web test") && !framed.contains(r#"id="disable""#),
        "the desk's page was shown in another site's frame:\n{framed}"
    );
    browser.leave_frame();

    // The admin disables and enables the plugin.
    browser.goto(&format!("{}/plugins/com.example.web", server.base));
    browser.css("#disable").click();
    assert!(
        browser
            .xpath("//p[@id='state' and contains(., 'disabled by hand')]")
            .text()
            .starts_with("disabled")
    );
    browser.css("#enable").click();
    browser.xpath("//p[@id='state' and . = 'enabled']");

    // A new build that may send requests to one more host waits for approval.
    let next = common::module("1.1.0", &["panel.example.com", "api.example.com"]);
    let Err(otai_plugin_desk::DeskError::NeedsApproval { diff, .. }) =
        server.state.desk.upgrade(&next, false)
    else {
        panic!("the upgrade should need approval")
    };
    server.state.set_pending(
        "com.example.web",
        Some(otai_plugin_desk::web::PendingUpgrade {
            wasm: next,
            version: "1.1.0".into(),
            diff: *diff,
        }),
    );
    browser.goto(&format!("{}/plugins/com.example.web", server.base));
    assert!(
        browser
            .css("#permission-diff")
            .text()
            .contains("+ may send requests to api.example.com")
    );
    assert!(
        browser.css("h1").text().contains("1.0.0"),
        "not upgraded before approval"
    );
    browser.css("#approve").click();
    browser.xpath("//h1[contains(., '1.1.0')]");
    assert!(!browser.source().contains("permission-diff"));

    // Live reload: `dev` swaps a new build in (as its `swap_in` does) and the page open
    // shows it without a click; a build that fails shows its error the same way.
    let hosts = ["panel.example.com", "api.example.com"];
    let swap = |version: &str| {
        server
            .state
            .desk
            .upgrade(&common::module(version, &hosts), false)
            .unwrap();
        server.state.set_build_error(None);
    };
    swap("1.2.0");
    browser.xpath("//h1[contains(., '1.2.0')]");
    server
        .state
        .set_build_error(Some("error: expected one of `(`, found `{`".into()));
    assert!(
        browser
            .css("#build-error")
            .text()
            .contains("expected one of `(`")
    );
    // A page with input not sent is kept, and says that a reload waits.
    let retries = browser.css("#f-retries");
    retries.clear();
    retries.send_keys("7");
    swap("1.3.0");
    browser.xpath("//div[@id='live-waiting' and not(@hidden)]");
    assert_eq!(
        browser.css("#f-retries").property("value").as_deref(),
        Some("7"),
        "the typed input was lost"
    );
    assert!(browser.css("h1").text().contains("1.2.0"));

    // A plugin that keeps failing is disabled, and still is after the server restarts.
    server
        .state
        .desk
        .install(&common::failing_module())
        .unwrap();
    for _ in 0..10 {
        server.state.desk.deliver("ticket.created", "T-9").unwrap();
    }
    let server = server.restart();
    browser.goto(&server.base);
    let row = browser.xpath("//tr[contains(., 'Always failing')]");
    let text = row.text();
    assert!(
        text.contains("disabled") && text.contains("10 of 10 deliveries failed within 10 minutes"),
        "{text}"
    );
    assert!(text.contains("10 of 10 (100%)"), "{text}");
    // The administrators are told on every page until one dismisses it; the list of
    // notices keeps it.
    let banner = browser.css("#notices").text();
    assert!(
        banner.contains("com.example.failing was disabled")
            && banner.contains("10 of 10 deliveries failed within 10 minutes"),
        "{banner}"
    );
    browser.css("header a[href='/tickets']").click();
    browser.css("#notices button").click();
    browser.xpath("//h1[. = 'Notices']");
    assert!(!browser.source().contains(r#"id="notices""#));
    let listed = browser.css("#notice-list").text();
    assert!(
        listed.contains("com.example.failing was disabled") && listed.contains("dismissed"),
        "{listed}"
    );

    // The admin lowers the minimum count on the settings page: a value that is not a
    // number comes back as typed beside its error, nothing saved; a good one is saved
    // and judges the next delivery, which the default would not have disabled.
    browser.css("header a[href='/settings']").click();
    let min = browser.css("#s-min_deliveries");
    min.clear();
    min.send_keys("three");
    browser.css("#save-settings").click();
    assert!(
        browser
            .css("#settings-errors")
            .text()
            .contains("Nothing was saved")
    );
    assert!(browser.css("#e-min_deliveries").text().contains("three"));
    assert_eq!(
        browser
            .css("#s-min_deliveries")
            .property("value")
            .as_deref(),
        Some("three")
    );
    // A new build does not reload a refused form (its address answers a GET with the
    // empty form): the page says a reload waits.
    server
        .state
        .desk
        .upgrade(&common::module("1.4.0", &hosts), false)
        .unwrap();
    server.state.set_build_error(None);
    browser.xpath("//div[@id='live-waiting' and not(@hidden)]");
    assert!(browser.css("#e-min_deliveries").text().contains("three"));
    browser.css("#live-waiting a").click();
    browser.xpath("//h1[contains(., 'Settings')]");
    assert!(!browser.source().contains("id=\"e-min_deliveries\""));
    let min = browser.css("#s-min_deliveries");
    min.clear();
    min.send_keys("3");
    browser.css("#save-settings").click();
    assert!(browser.css("#settings-saved").text().contains("Saved"));
    server
        .state
        .desk
        .install(&common::failing_module_as(
            "com.example.fails-fast",
            "Fails fast",
        ))
        .unwrap();
    for _ in 0..3 {
        server.state.desk.deliver("ticket.created", "T-9").unwrap();
    }
    browser.goto(&server.base);
    let text = browser.xpath("//tr[contains(., 'Fails fast')]").text();
    assert!(
        text.contains("disabled") && text.contains("3 of 3 deliveries failed"),
        "{text}"
    );
}
