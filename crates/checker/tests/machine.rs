//! The checker's rules, case by case: configurations read by the `keepalived` crate, outcomes
//! fed at chosen times, the pool compared after each.

use checker::{Event, Machine, Outcome, BOOTSTRAP};
use keepalived::check::checker::Checker;
use keepalived::check::{RealServer, VirtualServer};
use keepalived::{Config, Options};

const S: u64 = 1_000_000;

fn config(name: &str, text: &str) -> Config {
    let dir = std::env::temp_dir().join(format!("checker-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keepalived.conf");
    std::fs::write(&file, text).unwrap();
    let reading = keepalived::read(&file, &Options::default());
    std::fs::remove_dir_all(&dir).ok();
    reading.config
}

/// What a check is, for these tests: its method and where it connects.
fn probe(_: &VirtualServer, rs: &RealServer, c: &Checker) -> Result<String, String> {
    let conn = c.conn.as_ref();
    Ok(format!(
        "{} {:?}:{:?} {}",
        c.method.keyword(),
        conn.and_then(|c| c.connect_ip),
        conn.and_then(|c| c.connect_port),
        rs.addr
    ))
}

fn machine(name: &str, text: &str) -> Machine<String> {
    Machine::new(&config(name, text), 0, 7, probe).unwrap()
}

/// Each service's destinations as `addr:port weight`, services in order.
fn pool(m: &Machine<String>) -> Vec<Vec<String>> {
    m.table()
        .iter()
        .map(|e| {
            let mut d: Vec<String> = e
                .dests
                .iter()
                .map(|d| format!("{} {}", ipvs::SocketAddrDisplay(&d.addr, d.port), d.weight))
                .collect();
            d.sort();
            d
        })
        .collect()
}

/// Runs every due check until `until`, each check's outcome chosen by `result` from its probe.
fn run(m: &mut Machine<String>, from: u64, until: u64, result: impl Fn(&str) -> Outcome) -> u64 {
    let mut now = from;
    for _ in 0..10_000 {
        let Some(next) = m.next_due() else { break };
        if next > until {
            break;
        }
        now = next.max(now);
        for id in m.due(now) {
            let outcome = result(&m.checks[id].probe);
            m.finished(id, outcome, now);
        }
    }
    until
}

fn down(_: &str) -> Outcome {
    Outcome::Down("connection refused".into())
}

fn up(_: &str) -> Outcome {
    Outcome::Up { weight: None }
}

fn two_servers(extra_vs: &str, extra_rs: &str) -> String {
    format!(
        "virtual_server 192.0.2.1 80 {{\n protocol TCP\n lb_kind NAT\n delay_loop 6\n {extra_vs}\n\
         real_server 198.51.100.1 80 {{\n weight 3\n {extra_rs}\n TCP_CHECK {{\n warmup 0\n connect_timeout 3\n retry 2\n delay_before_retry 1\n }}\n }}\n\
         real_server 198.51.100.2 80 {{\n weight 2\n {extra_rs}\n TCP_CHECK {{\n warmup 0\n connect_timeout 3\n retry 2\n delay_before_retry 1\n }}\n }}\n}}\n"
    )
}

fn only_second_up(p: &str) -> Outcome {
    if p.contains("198.51.100.2") {
        up(p)
    } else {
        down(p)
    }
}

#[test]
fn without_alpha_every_server_starts_in_the_pool_and_leaves_after_its_retries() {
    let mut m = machine("default", &two_servers("", ""));
    assert_eq!(pool(&m), [["198.51.100.1:80 3", "198.51.100.2:80 2"]]);
    assert_eq!(m.next_due(), Some(BOOTSTRAP));
    // The first check is decided by one failure, as keepalived does.
    run(&mut m, 0, BOOTSTRAP, only_second_up);
    assert_eq!(pool(&m), [["198.51.100.2:80 2"]]);
    let logs: Vec<Event> = m.events();
    assert!(
        logs.contains(&Event::Log(
            "[192.0.2.1]:tcp:80: real server 198.51.100.1:80 down (TCP_CHECK: connection \
             refused): removed from the pool"
                .into()
        )),
        "{logs:?}"
    );
    // Back at its next check, delay_loop later.
    run(&mut m, 0, BOOTSTRAP + 6 * S, up);
    assert_eq!(pool(&m), [["198.51.100.1:80 3", "198.51.100.2:80 2"]]);
    // Then retry 2: the third failure in a row, a second apart, decides.
    run(&mut m, 0, BOOTSTRAP + 13 * S, only_second_up);
    assert_eq!(pool(&m), [["198.51.100.1:80 3", "198.51.100.2:80 2"]]);
    run(&mut m, 0, BOOTSTRAP + 14 * S, only_second_up);
    assert_eq!(pool(&m), [["198.51.100.2:80 2"]]);
}

#[test]
fn with_alpha_a_server_joins_after_its_first_success() {
    let mut m = machine("alpha", &two_servers("alpha", ""));
    assert_eq!(pool(&m), [Vec::<String>::new()]);
    run(&mut m, 0, BOOTSTRAP, only_second_up);
    assert_eq!(pool(&m), [["198.51.100.2:80 2"]]);
}

#[test]
fn inhibit_on_failure_keeps_a_dead_server_at_weight_zero() {
    let mut m = machine("inhibit", &two_servers("", "inhibit_on_failure"));
    run(&mut m, 0, BOOTSTRAP + 3 * S, only_second_up);
    assert_eq!(pool(&m), [["198.51.100.1:80 0", "198.51.100.2:80 2"]]);
    let mut alpha = machine("inhibit-alpha", &two_servers("alpha", "inhibit_on_failure"));
    assert_eq!(pool(&alpha), [["198.51.100.1:80 0", "198.51.100.2:80 0"]]);
    run(&mut alpha, 0, BOOTSTRAP, up);
    assert_eq!(pool(&alpha), [["198.51.100.1:80 3", "198.51.100.2:80 2"]]);
}

#[test]
fn the_sorry_server_replaces_the_pool_below_quorum_with_hysteresis() {
    let text = two_servers("quorum 4\n hysteresis 1\n sorry_server 203.0.113.9 80", "");
    let mut m = machine("quorum", &text);
    assert!(m.pools[0].quorum_up);
    // Live weight 2 < 4 - 1: lost.
    run(&mut m, 0, BOOTSTRAP + 2 * S, only_second_up);
    assert_eq!(pool(&m), [["203.0.113.9:80 1"]]);
    assert!(!m.pools[0].quorum_up);
    // Live weight 5 >= 4 + 1: gained again, the sorry server leaves.
    run(&mut m, 0, BOOTSTRAP + 9 * S, up);
    assert_eq!(pool(&m), [["198.51.100.1:80 3", "198.51.100.2:80 2"]]);
    // Starting below quorum + hysteresis with alpha: the sorry server at once.
    let text = two_servers(
        "alpha\n quorum 4\n hysteresis 1\n sorry_server 203.0.113.9 80",
        "",
    );
    let m = machine("quorum-start", &text);
    assert_eq!(pool(&m), [["203.0.113.9:80 1"]]);
}

#[test]
fn a_dynamic_misc_script_sets_the_weight() {
    let text = "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_kind DR\n delay_loop 6\n\
                real_server 198.51.100.1 80 {\n weight 3\n MISC_CHECK {\n misc_path \"/bin/true\"\n misc_dynamic\n warmup 0\n }\n }\n}\n";
    let mut m = machine("dynamic", text);
    run(&mut m, 0, BOOTSTRAP, |_| Outcome::Up { weight: Some(5) });
    assert_eq!(pool(&m), [["198.51.100.1:80 5"]]);
    run(&mut m, 0, BOOTSTRAP + 6 * S, up);
    assert_eq!(pool(&m), [["198.51.100.1:80 3"]]);
}

#[test]
fn a_server_behind_many_virtual_servers_is_checked_once() {
    let mut text = String::new();
    for port in [80, 81, 82] {
        text.push_str(&format!(
            "virtual_server 192.0.2.1 {port} {{\n protocol TCP\n lb_kind DR\n\
             real_server 198.51.100.1 80 {{\n TCP_CHECK {{\n connect_port 80\n warmup 0\n }}\n }}\n}}\n"
        ));
    }
    let mut m = machine("shared", &text);
    assert_eq!(m.checks.len(), 1);
    assert_eq!(m.checks[0].users.len(), 3);
    run(&mut m, 0, BOOTSTRAP + 2 * S, down);
    assert_eq!(pool(&m), [[""; 0]; 3]);
}

#[test]
fn notify_scripts_run_on_each_change() {
    let text = two_servers(
        "",
        "notify_down \"/bin/echo down\"\n notify_up \"/bin/echo up\"",
    );
    let mut m = machine("notify", &text);
    run(&mut m, 0, BOOTSTRAP + 2 * S, only_second_up);
    run(&mut m, 0, BOOTSTRAP + 8 * S, up);
    let runs: Vec<Vec<String>> = m
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Run(s) => Some(s.args),
            Event::Log(_) => None,
        })
        .collect();
    assert_eq!(runs, [["/bin/echo", "down"], ["/bin/echo", "up"]]);
}

#[test]
fn a_reload_keeps_what_the_checks_learnt() {
    let mut old = machine("reload-old", &two_servers("", ""));
    run(&mut old, 0, BOOTSTRAP + 2 * S, only_second_up);
    assert_eq!(pool(&old), [["198.51.100.2:80 2"]]);
    // The new file adds a server and changes a weight; the dead server stays out.
    let text = two_servers("", "").replace(
        "weight 2",
        "weight 7\n }\n real_server 198.51.100.3 80 {\n TCP_CHECK {\n connect_timeout 3\n warmup 0\n }",
    );
    let mut new = Machine::new(&config("reload-new", &text), 10 * S, 7, probe).unwrap();
    new.inherit(&old, 10 * S);
    assert_eq!(pool(&new), [["198.51.100.2:80 7", "198.51.100.3:80 1"]]);
    assert!(new.events().is_empty());
}

#[test]
fn a_fwmark_service_forwards_to_port_zero_unless_by_nat() {
    let text = "virtual_server fwmark 7 {\n lb_kind DR\n\
                real_server 198.51.100.1 80 {\n TCP_CHECK {\n connect_port 80\n warmup 0\n }\n }\n}\n";
    let m = machine("fwmark", text);
    assert_eq!(pool(&m), [["198.51.100.1:0 1"]]);
    assert_eq!(
        m.pools[0].named(&m.pools[0].pool.keys[0]),
        [("198.51.100.1".parse().unwrap(), 0)]
    );
}

#[test]
fn a_file_check_moves_the_weight_or_takes_the_server_down() {
    let text = "track_file load {\n file \"/run/load\"\n weight 10\n}\n\
                track_file gate {\n file \"/run/gate\"\n weight 0\n}\n\
                virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_kind DR\n\
                real_server 198.51.100.1 80 {\n weight 3\n FILE_CHECK {\n track_file load\n }\n }\n\
                real_server 198.51.100.2 80 {\n weight 3\n FILE_CHECK {\n track_file gate\n }\n }\n}\n";
    let mut m = machine("file", text);
    assert_eq!(m.files.len(), 2);
    m.file_value(0, 2, 0, true);
    m.file_value(1, 0, 0, true);
    assert_eq!(pool(&m), [["198.51.100.1:80 23", "198.51.100.2:80 3"]]);
    // A negative number lowers it; a weight-0 file that is not 0 takes its server down.
    m.file_value(0, -1, S, false);
    m.file_value(1, 1, S, false);
    assert_eq!(pool(&m), [["198.51.100.1:80 0"]]);
    assert!(m
        .events()
        .iter()
        .any(|e| matches!(e, Event::Log(l) if l.contains("/run/gate reads 1"))));
}
