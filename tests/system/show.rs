//! `lvsadm show`: its JSON validates against docs/show.schema.json and says what the kernel
//! holds; the table and `--watch` show the same services.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::lv_ok;
use crate::rig::{fresh_namespace, lvsadm, shell, IPVSADM};

const SCHEMA: &str = include_str!("../../docs/show.schema.json");

/// The part of JSON Schema (2020-12) the schema uses; anything else in it fails the test, so
/// the schema cannot grow past what is checked.
fn validate(schema: &Value, root: &Value, value: &Value, path: &str) -> Result<(), String> {
    let fail = |why: String| Err(format!("{path}: {why}"));
    let Some(rules) = schema.as_object() else {
        return fail("schema is not an object".into());
    };
    for (keyword, rule) in rules {
        match keyword.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let name = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .ok_or("bad $ref")?;
                validate(&root["$defs"][name], root, value, path)?;
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => return fail("bad type".into()),
                };
                let is = |t: &str| match t {
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "integer" => value.is_u64() || value.is_i64(),
                    "boolean" => value.is_boolean(),
                    "null" => value.is_null(),
                    _ => false,
                };
                if !types.iter().any(|t| is(t)) {
                    return fail(format!("{value} is not {types:?}"));
                }
            }
            "const" if value != rule => return fail(format!("{value} is not {rule}")),
            "enum" if !rule.as_array().is_some_and(|a| a.contains(value)) => {
                return fail(format!("{value} is not one of {rule}"))
            }
            "const" | "enum" => {}
            "minimum" | "maximum" => {
                if let Some(n) = value.as_u64() {
                    let bound = rule.as_u64().ok_or("bad bound")?;
                    if (keyword == "minimum" && n < bound) || (keyword == "maximum" && n > bound) {
                        return fail(format!("{n} out of bounds"));
                    }
                } else if value.is_number() {
                    return fail(format!("{value} is not an unsigned integer"));
                }
            }
            "required" => {
                for name in rule.as_array().ok_or("bad required")? {
                    let name = name.as_str().ok_or("bad required")?;
                    if value.get(name).is_none() {
                        return fail(format!("{name} missing"));
                    }
                }
            }
            "properties" => {
                for (name, sub) in rule.as_object().ok_or("bad properties")? {
                    if let Some(v) = value.get(name) {
                        validate(sub, root, v, &format!("{path}.{name}"))?;
                    }
                }
            }
            "additionalProperties" => {
                let known = schema["properties"].as_object().ok_or("no properties")?;
                for name in value.as_object().map(|o| o.keys()).into_iter().flatten() {
                    if !known.contains_key(name) {
                        return fail(format!("unexpected member {name}"));
                    }
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    validate(rule, root, item, &format!("{path}[{i}]"))?;
                }
            }
            "oneOf" => {
                let matching = rule
                    .as_array()
                    .ok_or("bad oneOf")?
                    .iter()
                    .filter(|s| validate(s, root, value, path).is_ok())
                    .count();
                if matching != 1 {
                    return fail(format!("{value} matches {matching} of oneOf"));
                }
            }
            other => return fail(format!("schema keyword {other} is not checked")),
        }
    }
    Ok(())
}

#[test]
fn show_json_matches_its_schema_and_the_kernel() {
    fresh_namespace().unwrap();
    let rules = "-A -t 192.0.2.60:80 -s rr -p 300 -M 255.255.255.0\n\
                 -a -t 192.0.2.60:80 -r 198.51.100.2:80 -g -w 3 -x 100 -y 10\n\
                 -a -t 192.0.2.60:80 -r 198.51.100.3:8080 -m -w 1\n\
                 -A -u [2001:db8::60]:53 -s sh -b sh-port -o\n\
                 -a -u [2001:db8::60]:53 -r [2001:db8::2]:53 -i -w 2\n\
                 -A -f 7 -s wlc -p 60 --pe sip\n";
    shell(&format!(
        "printf '{}' | {IPVSADM} -R",
        rules.replace('\n', "\\n")
    ))
    .unwrap();
    let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
    let doc: Value =
        serde_json::from_str(&lv_ok(&["show", "--json"])).expect("show --json is JSON");
    validate(&schema, &schema, &doc, "$").unwrap();

    let services = doc["services"].as_array().unwrap();
    assert_eq!(services.len(), 3);
    let by = |pred: &dyn Fn(&Value) -> bool| services.iter().find(|s| pred(s)).unwrap().clone();
    let web = by(&|s| s["port"] == 80);
    assert_eq!(web["protocol"], "tcp");
    assert_eq!(web["address"], "192.0.2.60");
    assert_eq!(web["persistence"]["timeout"], 300);
    assert_eq!(web["persistence"]["netmask"], "255.255.255.0");
    let dests = web["destinations"].as_array().unwrap();
    let real = dests
        .iter()
        .find(|d| d["address"] == "198.51.100.2")
        .unwrap();
    assert_eq!(
        (real["forward"].as_str(), real["weight"].as_u64()),
        (Some("route"), Some(3))
    );
    assert_eq!(
        (
            real["upper_threshold"].as_u64(),
            real["lower_threshold"].as_u64()
        ),
        (Some(100), Some(10))
    );
    let dns = by(&|s| s["port"] == 53);
    assert_eq!(
        (dns["family"].as_str(), dns["one_packet"].as_bool()),
        (Some("inet6"), Some(true))
    );
    assert_eq!(dns["scheduler_flags"], serde_json::json!(["sh-port"]));
    assert_eq!(dns["destinations"][0]["forward"], "tunnel");
    let mark = by(&|s| s["fwmark"] == 7);
    assert_eq!(
        (mark["pe"].as_str(), mark["address"].is_null()),
        (Some("sip"), true)
    );

    let table = lv_ok(&["show"]);
    for needle in [
        "TCP 192.0.2.60:80",
        "-> 198.51.100.3:8080",
        "masq",
        "UDP [2001:db8::60]:53",
        "FWM 7",
    ] {
        assert!(table.contains(needle), "{needle} missing from\n{table}");
    }
}

#[test]
fn show_watch_redraws_in_place() {
    fresh_namespace().unwrap();
    shell(&format!("{IPVSADM} -A -t 192.0.2.60:80 -s rr")).unwrap();
    let mut child = Command::new(lvsadm())
        .args(["show", "--watch", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("lvsadm show --watch");
    std::thread::sleep(Duration::from_millis(2500));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let frames = text.matches("\x1b[H\x1b[2J").count();
    assert!(frames >= 2, "{frames} frames in {text:?}");
    assert_eq!(
        text.matches("TCP 192.0.2.60:80").count(),
        frames,
        "{text:?}"
    );
}
