//! Photos on events end to end, over the embedded store: the real `onemap`
//! binary serves a small generated city; a unit leader adds photos to an
//! event of their grid (a PNG and JPEGs made here, one turned by its EXIF),
//! which come back as display JPEGs to readers whose scope covers the
//! event; what is not a whole JPEG or PNG, a decompression bomb, a fourth
//! photo, a stranger and a session without its CSRF token are refused and
//! keep nothing; a restart loses nothing.

mod http_support;

use http_support::images::{decode_jpeg, is_blue, is_red, jpeg, jpeg_turned, png, png_claiming};
use http_support::{
    get, get_as, id_of, other_town, post, request, request_body, request_bytes, small_city, start,
    token, Reply, BIN,
};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

/// Sends `head` (and `body`) on a connection of its own and reads one
/// answer (`Content-Length` bodies only): its status and body.
fn raw(addr: &str, head: &str, body: &[u8]) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer (and stop reading) before the whole body is in.
    let _ = s.write_all(body);
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "closed mid-head");
        got.push(byte[0]);
    }
    let head = String::from_utf8(got).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    (
        head[9..12].parse().unwrap(),
        serde_json::from_slice(&body).unwrap(),
    )
}

/// Posts `body` as a photo of `event` with this Content-Type and token.
fn upload(a: &str, event: u64, token: Option<&str>, kind: &str, body: Vec<u8>) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut h = vec![("Content-Type", kind)];
    if let Some(x) = &auth {
        h.push(("Authorization", x.as_str()));
    }
    request_bytes(a, "POST", &format!("/api/events/{event}/photos"), &h, body)
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The photos an event's page lists for a reader.
fn listed(a: &str, event: u64, token: &str) -> Value {
    get_as(a, &format!("/api/events/{event}"), token).json()["photos"].clone()
}

#[test]
fn photos_on_events_end_to_end() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    let (lon, lat) = (119.0, 25.45);
    let loc = get(a, &format!("/api/locate?lon={lon}&lat={lat}")).json();
    let grid = id_of(&loc["grid"]["id"]);
    let town = id_of(&loc["town"]["id"]);
    let far_town = other_town(a, town);
    drop(server);
    let leader = token(&city, "unit_leader", &format!("area:{grid}"), "网格长 李");
    let far_leader = token(&city, "unit_leader", &format!("area:{far_town}001"), "别处");
    let office = token(&city, "town_office", &format!("area:{town}"), "街道办");
    let far_office = token(
        &city,
        "town_office",
        &format!("area:{far_town}"),
        "别处街道办",
    );
    let water = token(&city, "department", "department:水务局", "水务局");
    let viewer = token(&city, "viewer", "city", "大屏");

    let server = start(&city);
    let a = server.addr.as_str();
    let report = json!({"lon": lon, "lat": lat, "category": "road",
        "description": "路面塌陷", "idempotency_key": "p-1"})
    .to_string();
    let made = post(a, "/api/events", Some(&leader), &report);
    assert_eq!(made.status, 201, "{}", text(&made));
    let id = id_of(&made.json()["event"]["id"]);
    // No photos yet: an empty list for readers, nothing for the public.
    assert_eq!(listed(a, id, &office), json!([]));
    let public = get(a, &format!("/api/events/{id}")).json();
    assert_eq!(public["private"], true);
    assert!(public["photos"].is_null(), "{public}");

    // Who may not add one: nobody, a stranger, the town office, a viewer, a
    // department, a leader of other units.
    let small = png(80, 60);
    assert_eq!(
        upload(a, id, None, "image/png", small.clone()).error(),
        (401, "unauthorized".into())
    );
    assert_eq!(
        upload(a, id, Some("om_forged"), "image/png", small.clone()).error(),
        (401, "unauthorized".into())
    );
    for who in [&office, &viewer, &water, &far_leader] {
        assert_eq!(
            upload(a, id, Some(who), "image/png", small.clone()).error(),
            (403, "forbidden".into())
        );
    }
    // What is not a photo: the wrong media type, text, a GIF, a JPEG cut
    // short, a PNG cut short, a bomb's header; an event that does not exist.
    let photo = jpeg(640, 480);
    assert_eq!(
        upload(a, id, Some(&leader), "application/json", photo.clone()).error(),
        (415, "unsupported_media_type".into())
    );
    assert_eq!(
        upload(a, id, Some(&leader), "image/gif", photo.clone()).error(),
        (415, "unsupported_media_type".into())
    );
    let big_png = png(400, 300);
    for (what, kind, body) in [
        ("text", "image/jpeg", b"not an image at all".to_vec()),
        ("empty", "image/jpeg", Vec::new()),
        (
            "gif",
            "image/png",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
        ),
        (
            "cut jpeg",
            "image/jpeg",
            photo[..photo.len() * 2 / 3].to_vec(),
        ),
        (
            "cut png",
            "image/png",
            big_png[..big_png.len() / 2].to_vec(),
        ),
    ] {
        let r = upload(a, id, Some(&leader), kind, body);
        assert_eq!(
            r.error(),
            (422, "invalid_photo".into()),
            "{what}: {}",
            text(&r)
        );
    }
    let bomb = upload(a, id, Some(&leader), "image/png", png_claiming(100_000));
    assert_eq!(
        bomb.error(),
        (422, "photo_too_large".into()),
        "{}",
        text(&bomb)
    );
    assert_eq!(
        upload(
            a,
            999_999_999_999,
            Some(&leader),
            "image/png",
            small.clone()
        )
        .error(),
        (404, "unknown_event".into())
    );
    assert_eq!(listed(a, id, &office), json!([]), "nothing was kept");

    // A large PNG: kept as a JPEG 1280 px on its long side, same shape.
    let r = upload(a, id, Some(&leader), "image/png", png(2000, 1500));
    assert_eq!(r.status, 201, "{}", text(&r));
    let first = r.json();
    let url = format!("/api/events/{id}/photos/1");
    assert_eq!(first["seq"], 1);
    assert_eq!(first["url"], url.as_str());
    assert_eq!(
        (first["width"].as_u64(), first["height"].as_u64()),
        (Some(1280), Some(960))
    );
    assert_eq!(first["uploader"], "网格长 李");
    assert_eq!(r.header("location"), Some(url.as_str()));
    // A small JPEG keeps its size; one turned by its EXIF comes upright.
    let second = upload(a, id, Some(&leader), "image/jpeg", photo.clone());
    assert_eq!(second.status, 201, "{}", text(&second));
    assert_eq!(
        (
            second.json()["width"].as_u64(),
            second.json()["height"].as_u64()
        ),
        (Some(640), Some(480))
    );
    let third = upload(a, id, Some(&leader), "image/jpeg", jpeg_turned(300, 200));
    assert_eq!(third.status, 201, "{}", text(&third));
    assert_eq!(third.json()["seq"], 3);
    assert_eq!(
        (
            third.json()["width"].as_u64(),
            third.json()["height"].as_u64()
        ),
        (Some(200), Some(300))
    );
    // A fourth: refused, with a clear word.
    let fourth = upload(a, id, Some(&leader), "image/jpeg", photo.clone());
    assert_eq!(fourth.error(), (409, "too_many_photos".into()));
    assert!(text(&fourth).contains("3 photos"), "{}", text(&fourth));

    // Read back: a JPEG of the same picture, private to its reader.
    let got = get_as(a, &url, &leader);
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    assert!(
        got.header("cache-control")
            .is_some_and(|c| c.starts_with("private")),
        "{:?}",
        got.header("cache-control")
    );
    let img = decode_jpeg(&got.body);
    assert_eq!(img.dimensions(), (1280, 960));
    assert!(
        is_red(img.get_pixel(100, 480)) && is_blue(img.get_pixel(1180, 480)),
        "the same picture"
    );
    // Turned upright: the left half (red) is now the top.
    let turned = decode_jpeg(&get_as(a, &format!("/api/events/{id}/photos/3"), &leader).body);
    assert_eq!(turned.dimensions(), (200, 300));
    assert!(
        is_red(turned.get_pixel(100, 30)) && is_blue(turned.get_pixel(100, 270)),
        "turned as its EXIF says"
    );
    // Who reads them: whoever reads the event's text.
    assert_eq!(get_as(a, &url, &office).status, 200);
    assert_eq!(get_as(a, &url, &viewer).status, 200, "a city-wide viewer");
    assert_eq!(
        get_as(a, &url, &far_office).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        get_as(a, &url, &far_leader).error(),
        (403, "forbidden".into())
    );
    assert_eq!(
        get_as(a, &url, &water).error(),
        (403, "forbidden".into()),
        "not routed to it"
    );
    assert_eq!(get(a, &url).error(), (401, "unauthorized".into()));
    assert_eq!(
        get_as(a, &format!("/api/events/{id}/photos/4"), &office).error(),
        (404, "unknown_photo".into())
    );
    assert_eq!(
        get_as(a, &format!("/api/events/{id}/photos/x"), &office)
            .error()
            .0,
        400
    );
    assert_eq!(
        get_as(a, "/api/events/999999999999/photos/1", &office).error(),
        (404, "unknown_event".into())
    );
    // The event's page lists them, by number, with where to read each.
    let photos = listed(a, id, &office);
    let seqs: Vec<u64> = photos
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert_eq!(photos[1]["url"], format!("/api/events/{id}/photos/2"));
    assert_eq!(
        (photos[1]["width"].as_u64(), photos[1]["height"].as_u64()),
        (Some(640), Some(480))
    );
    let stranger = get_as(a, &format!("/api/events/{id}"), &far_office).json();
    assert!(
        stranger["photos"].is_null() && stranger["private"] == true,
        "{stranger}"
    );
    // Routed to the water bureau: it reads them then.
    for (who, to) in [
        (&office, json!({"to": "discussing"})),
        (&office, json!({"to": "routed", "routed_to": "水务局"})),
    ] {
        let r = post(
            a,
            &format!("/api/events/{id}/transitions"),
            Some(who),
            &to.to_string(),
        );
        assert_eq!(r.status, 200, "{}", text(&r));
    }
    assert_eq!(get_as(a, &url, &water).status, 200);
    drop(server);

    // A restart loses nothing.
    let server = start(&city);
    let a = server.addr.as_str();
    assert_eq!(listed(a, id, &office).as_array().map(Vec::len), Some(3));
    let again = get_as(a, &url, &office);
    assert_eq!(again.body, got.body, "the same bytes");
}

#[test]
fn a_session_adds_photos_with_its_csrf_token() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    let (lon, lat) = (119.0, 25.45);
    let grid = id_of(&get(a, &format!("/api/locate?lon={lon}&lat={lat}")).json()["grid"]["id"]);
    drop(server);
    let made = Command::new(BIN)
        .args([
            "user",
            "create",
            "--name",
            "li.ming",
            "--display-name",
            "李明",
            "--role",
            "unit_leader",
        ])
        .args(["--scope", &format!("area:{grid}"), "--data"])
        .arg(&city)
        .env("ONEMAP_PASSWORD", "wo-de-mi-ma-2026")
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    // Photos of at most 16 KiB here (10 MiB by default).
    let server =
        http_support::start_with(&["--data", city.to_str().unwrap(), "--photo-body-kb", "16"]);
    let a = server.addr.as_str();
    let signed = request_body(
        a,
        "POST",
        "/api/session",
        &[("Content-Type", "application/json")],
        Some(&json!({"name": "li.ming", "password": "wo-de-mi-ma-2026"}).to_string()),
    );
    assert_eq!(signed.status, 200, "{}", text(&signed));
    let cookie = signed
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = signed.json()["csrf"].as_str().unwrap().to_string();
    let report = json!({"lon": lon, "lat": lat, "category": "road", "description": "路灯不亮"});
    let r = request_body(
        a,
        "POST",
        "/api/events",
        &[
            ("Content-Type", "application/json"),
            ("Cookie", &cookie),
            ("X-CSRF-Token", &csrf),
        ],
        Some(&report.to_string()),
    );
    assert_eq!(r.status, 201, "{}", text(&r));
    let id = id_of(&r.json()["event"]["id"]);
    let path = format!("/api/events/{id}/photos");
    let send = |csrf: Option<&str>| {
        let mut h = vec![("Content-Type", "image/jpeg"), ("Cookie", cookie.as_str())];
        if let Some(c) = csrf {
            h.push(("X-CSRF-Token", c));
        }
        request_bytes(a, "POST", &path, &h, jpeg(120, 90))
    };
    // Larger than taken: said so before the body is sent (Content-Length,
    // waiting for 100 Continue), or once 16 KiB of a chunked body are in.
    let auth = format!("Cookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\nContent-Type: image/jpeg\r\n");
    let (status, v) = raw(
        a,
        &format!("POST {path} HTTP/1.1\r\nHost: onemap\r\n{auth}Content-Length: {}\r\nExpect: 100-continue\r\n\r\n", 16 * 1024 + 1),
        &[],
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (413, Some("body_too_large")),
        "{v}"
    );
    let mut chunked = Vec::new();
    for _ in 0..4 {
        chunked.extend_from_slice(format!("{:x}\r\n", 8 * 1024).as_bytes());
        chunked.extend_from_slice(&vec![0xAB; 8 * 1024]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (status, v) = raw(
        a,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: onemap\r\n{auth}Transfer-Encoding: chunked\r\n\r\n"
        ),
        &chunked,
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (413, Some("body_too_large")),
        "{v}"
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("16384"),
        "{v}"
    );
    assert_eq!(send(None).error(), (403, "csrf_failed".into()));
    assert_eq!(
        send(Some("not-the-token")).error(),
        (403, "csrf_failed".into())
    );
    let ok = send(Some(&csrf));
    assert_eq!(ok.status, 201, "{}", text(&ok));
    assert_eq!(ok.json()["uploader"], "李明");
    // Read with the cookie, as the viewer's <img> does.
    let img = request(a, "GET", &format!("{path}/1"), &[("Cookie", &cookie)]);
    assert_eq!(img.status, 200);
    assert_eq!(decode_jpeg(&img.body).dimensions(), (120, 90));
}
