//! People's accounts end to end: `onemap user` makes them, the real server
//! signs them in with a session cookie (HttpOnly, SameSite=Strict, Secure
//! behind TLS), a change with the cookie needs the session's CSRF token,
//! failed sign-ins lock a name out, disabling an account ends its sessions,
//! and `--private-reads` lets a signed-in browser read.

mod http_support;

use http_support::{get, id_of, request, request_body, small_city, start, start_with, Reply, BIN};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const PASSWORD: &str = "wo-de-mi-ma-2026";

fn user(city: &Path, args: &[&str], password: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    c.arg("user").args(args).arg("--data").arg(city);
    match password {
        Some(p) => c.env("ONEMAP_PASSWORD", p),
        None => c.env_remove("ONEMAP_PASSWORD"),
    };
    c.stdin(std::process::Stdio::null()).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn sign_in(a: &str, name: &str, password: &str, extra: &[(&str, &str)]) -> Reply {
    let body = json!({"name": name, "password": password}).to_string();
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(extra);
    request_body(a, "POST", "/api/session", &h, Some(&body))
}

/// The session cookie a sign-in set (`name=value`), and its attributes.
fn set_cookie(r: &Reply) -> (String, String) {
    let c = r.header("set-cookie").expect("a Set-Cookie").to_string();
    let pair = c.split(';').next().unwrap().trim().to_string();
    (pair, c)
}

#[test]
fn people_sign_in_and_act_with_a_session() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    let (lon, lat) = (119.0, 25.45);
    let loc = get(a, &format!("/api/locate?lon={lon}&lat={lat}")).json();
    let grid = id_of(&loc["grid"]["id"]);
    let town = id_of(&loc["town"]["id"]);
    drop(server);

    // Accounts from the command line: checked before anything is stored.
    let grid_scope = format!("area:{grid}");
    let make = |name: &str, display: &str, role: &str, scope: &str, pw: Option<&str>| {
        user(
            &city,
            &[
                "create",
                "--name",
                name,
                "--display-name",
                display,
                "--role",
                role,
                "--scope",
                scope,
            ],
            pw,
        )
    };
    let ok = make(
        "li.ming",
        "李明",
        "unit_leader",
        &grid_scope,
        Some(PASSWORD),
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let office_scope = format!("area:{town}");
    let ok = make(
        "office",
        "街道办",
        "town_office",
        &office_scope,
        Some(PASSWORD),
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    for (args, pw, says) in [
        (
            ("li.ming", "unit_leader", grid_scope.as_str()),
            Some(PASSWORD),
            "exists already",
        ),
        (
            ("short", "unit_leader", grid_scope.as_str()),
            Some("1234567"),
            "at least 8",
        ),
        (("feed", "ship_feed", "city"), Some(PASSWORD), "machine"),
        (
            ("bad name", "viewer", "city"),
            Some(PASSWORD),
            "invalid user name",
        ),
        (("wide", "unit_leader", "city"), Some(PASSWORD), "scope"),
        (("nopass", "viewer", "city"), None, "no password"),
    ] {
        let o = make(args.0, "某人", args.1, args.2, pw);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    }
    let list = user(&city, &["list", "--json"], None);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["li.ming", "office"]);
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&list).unwrap()).contains("argon2"));

    let server = start(&city);
    let a = server.addr.as_str();

    // Wrong password and unknown name: the same answer.
    let wrong = sign_in(a, "li.ming", "not-the-password", &[]);
    let unknown = sign_in(a, "nobody", PASSWORD, &[]);
    assert_eq!(wrong.error(), (401, "sign_in_failed".into()));
    assert_eq!(unknown.json()["error"], wrong.json()["error"]);
    assert!(wrong.header("set-cookie").is_none());

    // Signed in: an HttpOnly, SameSite=Strict cookie, Secure behind TLS.
    let r = sign_in(a, "li.ming", PASSWORD, &[]);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let (cookie, attrs) = set_cookie(&r);
    for want in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attrs.contains(want), "{attrs}");
    }
    assert!(!attrs.contains("Secure"), "{attrs}");
    let doc = r.json();
    assert_eq!(doc["user"]["display_name"], "李明");
    assert_eq!(doc["user"]["role"], "unit_leader");
    let csrf = doc["csrf"].as_str().unwrap().to_string();
    let tls = sign_in(a, "li.ming", PASSWORD, &[("X-Forwarded-Proto", "https")]);
    assert!(
        set_cookie(&tls).1.contains("; Secure"),
        "{}",
        set_cookie(&tls).1
    );
    let (other_cookie, _) = set_cookie(&tls);
    let other_csrf = tls.json()["csrf"].as_str().unwrap().to_string();
    assert_ne!(other_csrf, csrf, "each session has its own CSRF token");

    let me = request(a, "GET", "/api/session", &[("Cookie", &cookie)]);
    assert_eq!(me.json()["user"]["name"], "li.ming");
    assert_eq!(me.json()["csrf"], csrf.as_str());
    assert_eq!(request(a, "GET", "/api/session", &[]).error().0, 401);

    // A change with the cookie needs the session's own CSRF token.
    let report = json!({"lon": lon, "lat": lat, "category": "road",
        "description": "路面塌陷", "idempotency_key": "acc-1"})
    .to_string();
    let post = |cookie: &str, csrf: Option<&str>| {
        let mut h = vec![("Content-Type", "application/json"), ("Cookie", cookie)];
        if let Some(c) = csrf {
            h.push(("X-CSRF-Token", c));
        }
        request_body(a, "POST", "/api/events", &h, Some(&report))
    };
    assert_eq!(post(&cookie, None).error(), (403, "csrf_failed".into()));
    assert_eq!(
        post(&cookie, Some(&other_csrf)).error(),
        (403, "csrf_failed".into())
    );
    let made = post(&cookie, Some(&csrf));
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    let id = made.json()["event"]["id"].as_u64().unwrap();
    assert_eq!(made.json()["reporter"], "李明");
    // The key is the account's, across its sessions.
    let again = post(&other_cookie, Some(&other_csrf));
    assert_eq!(
        (again.status, again.json()["event"]["id"].as_u64()),
        (200, Some(id))
    );

    // Five failures lock a name out, the right password included.
    for _ in 0..5 {
        assert_eq!(sign_in(a, "office", "wrong-password", &[]).error().0, 401);
    }
    let locked = sign_in(a, "office", PASSWORD, &[]);
    assert_eq!(locked.error(), (429, "too_many_attempts".into()));
    assert_eq!(locked.header("retry-after"), Some("300"));
    // Another name is not locked out.
    assert_eq!(sign_in(a, "li.ming", PASSWORD, &[]).status, 200);

    // Signing out ends that session at once.
    let out = request(a, "DELETE", "/api/session", &[("Cookie", &other_cookie)]);
    assert_eq!(out.status, 204);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(
        request(a, "GET", "/api/session", &[("Cookie", &other_cookie)])
            .error()
            .0,
        401
    );

    // Disabling the account ends its sessions within seconds, and it can no
    // longer sign in.
    let o = user(&city, &["disable", "li.ming"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let t0 = Instant::now();
    loop {
        let r = request(a, "GET", "/api/session", &[("Cookie", &cookie)]);
        if r.status == 401 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "session still valid after disable"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(post(&cookie, Some(&csrf)).error().0, 401);
    assert_eq!(sign_in(a, "li.ming", PASSWORD, &[]).error().0, 401);
    drop(server);

    // With private reads, a signed-in browser reads; nobody else does.
    let o = user(&city, &["passwd", "office"], Some("new-password-1"));
    assert!(o.status.success(), "{}", stderr(&o));
    let private = start_with(&["--data", city.to_str().unwrap(), "--private-reads"]);
    let p = private.addr.as_str();
    let r = sign_in(p, "office", "new-password-1", &[]);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let (cookie, _) = set_cookie(&r);
    assert_eq!(request(p, "GET", "/catalog", &[]).error().0, 401);
    assert_eq!(
        request(p, "GET", "/catalog", &[("Cookie", &cookie)]).status,
        200
    );
    let e = request(
        p,
        "GET",
        &format!("/api/events/{id}"),
        &[("Cookie", &cookie)],
    )
    .json();
    assert_eq!(
        e["description"], "路面塌陷",
        "the town office reads its town's report"
    );
}
