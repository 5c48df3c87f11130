//! Area files end to end: the real `onemap` binary serves a small generated
//! city with its ledgers; a town's and a village's file are read and every
//! number in them is computed again here from other answers of the API —
//! the events paged out of `/api/features/events` and bucketed by month in
//! China time by this test, the ledgers counted by `/api/table`, heritage
//! points and homesteads summed from `/api/features` — and the leaders'
//! phones are masked per role as the one table masks them. Unknown ids are
//! 404, malformed ones 400, and who may read follows the one table's rule.

mod http_support;

use http_support::{get, get_as, id_of, other_town, small_city, start, token};
use serde_json::Value;
use std::collections::BTreeMap;

/// Days since 1970-01-01 of a civil date (written here, not our crate's).
fn days(y: i64, m: i64, d: i64) -> i64 {
    let (y, m) = if m <= 2 { (y - 1, m + 12) } else { (y, m) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m - 3) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The first moment of a month in China (UTC+8), Unix seconds.
fn month_start(y: i64, m: i64) -> i64 {
    let (y, m) = if m > 12 { (y + 1, m - 12) } else { (y, m) };
    days(y, m, 1) * 86_400 - 8 * 3600
}

/// Every feature of a layer in an area, page by page.
fn all_features(a: &str, layer: &str, area: u64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/features/{layer}?area={area}&limit=5000");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = get(a, &path).json();
        out.extend(page["features"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

fn table_total(a: &str, tok: &str, query: &str) -> u64 {
    let r = get_as(a, &format!("/api/table?{query}&limit=0"), tok);
    assert_eq!(
        r.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()["total"].as_u64().unwrap()
}

fn num(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The area's file checked number by number.
fn check_area(a: &str, tok: &str, area: u64, child_digits: usize) -> Value {
    let f = get_as(a, &format!("/api/files/area/{area}?until=2026-10"), tok);
    assert_eq!(f.status, 200, "{}", String::from_utf8_lossy(&f.body));
    assert_eq!(f.header("cache-control"), Some("private, no-store"));
    let f = f.json();
    assert_eq!(id_of(&f["area"]["id"]), area);
    assert_eq!(f["until"], "2026-10");

    // Events: the months November 2025 to October 2026, China time.
    let events = all_features(a, "events", area);
    assert!(events.len() > 20, "{} events in {area}", events.len());
    let bounds: Vec<i64> = (0..=12).map(|i| month_start(2025, 11 + i)).collect();
    let month_of = |t: i64| (0..12).find(|&i| t >= bounds[i] && t < bounds[i + 1]);
    let mut reported = [0u64; 12];
    let mut closed = [0u64; 12];
    let mut by_cat: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut per_child: BTreeMap<u64, (u64, u64, u64)> = BTreeMap::new();
    let (mut open, mut overdue) = (0u64, 0u64);
    let at = f["events"]["now"]["at"].as_i64().unwrap();
    let limits = get(a, "/api/deadlines").json();
    for e in &events {
        let p = &e["properties"];
        let cat = p["category"].as_str().unwrap().to_string();
        let status = p["status"].as_str().unwrap();
        let rep = p["reported_at"].as_i64().unwrap();
        let child = id_of(&p["unit"])
            .to_string()
            .get(..child_digits)
            .map(|s| s.parse::<u64>().unwrap());
        let c = per_child.entry(child.unwrap_or(0)).or_default();
        if let Some(m) = month_of(rep) {
            reported[m] += 1;
            by_cat.entry(cat.clone()).or_default().0 += 1;
            c.0 += 1;
        }
        if status == "closed" {
            let t = p["closed_at"].as_i64().unwrap();
            if let Some(m) = month_of(t) {
                closed[m] += 1;
                by_cat.entry(cat).or_default().1 += 1;
                c.1 += 1;
            }
        } else {
            open += 1;
            c.2 += 1;
            let step = match status {
                "reported" => "judge",
                "discussing" => "route",
                "routed" => "handle",
                "handled" => "feed_back",
                _ => "close",
            };
            if let Some(limit) = limits[step].as_i64() {
                if at > p["status_at"].as_i64().unwrap() + limit {
                    overdue += 1;
                }
            }
        }
    }
    let months = f["events"]["months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(months[0]["month"], "2025-11");
    assert_eq!(months[11]["month"], "2026-10");
    for (i, m) in months.iter().enumerate() {
        assert_eq!(m["start"].as_i64().unwrap(), bounds[i], "{}", m["month"]);
        assert_eq!(
            num(&m["reported"]),
            reported[i],
            "reported in {}",
            m["month"]
        );
        assert_eq!(num(&m["closed"]), closed[i], "closed in {}", m["month"]);
        let cats: u64 = m["by_category"]
            .as_object()
            .unwrap()
            .values()
            .map(num)
            .sum();
        assert_eq!(cats, reported[i]);
    }
    assert!(reported.iter().sum::<u64>() > 0 && closed.iter().sum::<u64>() > 0);
    for (cat, (r, c)) in &by_cat {
        assert_eq!(num(&f["events"]["reported_by_category"][cat]), *r, "{cat}");
        assert_eq!(num(&f["events"]["closed_by_category"][cat]), *c, "{cat}");
    }
    let now = &f["events"]["now"];
    assert_eq!(num(&now["total"]), events.len() as u64);
    assert_eq!(num(&now["open"]), open);
    assert_eq!(num(&now["overdue"]), overdue);
    // The map's own figures agree.
    let details = get(a, &format!("/api/areas/{area}")).json();
    assert_eq!(details["figures"]["total"], now["total"]);
    assert_eq!(details["figures"]["open"], now["open"]);

    // The ledgers, counted by the one table.
    let l = &f["ledgers"];
    let q = |rest: &str| table_total(a, tok, &format!("area={area}&{rest}"));
    assert_eq!(num(&l["people"]), q("ledger=people"));
    assert_eq!(num(&l["care"]), q("ledger=people&tags=care"));
    assert!(num(&l["care"]) > 0);
    for t in l["tags"].as_array().unwrap() {
        let key = t["key"].as_str().unwrap();
        assert_eq!(
            num(&t["people"]),
            q(&format!("ledger=people&tags={key}")),
            "{key}"
        );
    }
    assert_eq!(num(&l["houses"]), q("ledger=houses"));
    assert_eq!(num(&l["dangerous_houses"]), q("ledger=houses&safety=c|d"));
    assert_eq!(num(&l["cadres"]), q("ledger=cadres"));
    assert_eq!(num(&l["projects"]), q("ledger=projects"));

    // Heritage and homesteads, summed here from their features.
    let heritage = all_features(a, "heritage", area);
    assert_eq!(num(&f["heritage"]["total"]), heritage.len() as u64);
    let mut levels: BTreeMap<String, u64> = BTreeMap::new();
    for h in &heritage {
        *levels
            .entry(h["properties"]["level"].as_str().unwrap().into())
            .or_default() += 1;
    }
    for (k, v) in f["heritage"]["by_level"].as_object().unwrap() {
        assert_eq!(num(v), levels.get(k).copied().unwrap_or(0), "{k}");
    }
    let homes = all_features(a, "homesteads", area);
    assert_eq!(num(&f["homesteads"]["total"]), homes.len() as u64);
    let mut sums: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for h in &homes {
        let s = sums
            .entry(h["properties"]["status"].as_str().unwrap().into())
            .or_default();
        s.0 += 1;
        s.1 += h["properties"]["area_m2"].as_f64().unwrap();
    }
    let mut all_m2 = 0.0;
    for s in f["homesteads"]["by_status"].as_array().unwrap() {
        let (n, m2) = sums
            .get(s["status"].as_str().unwrap())
            .copied()
            .unwrap_or_default();
        assert_eq!(num(&s["count"]), n);
        assert!((s["area_m2"].as_f64().unwrap() - m2).abs() < 1e-6 * m2.max(1.0));
        all_m2 += m2;
    }
    assert!((f["homesteads"]["area_m2"].as_f64().unwrap() - all_m2).abs() < 1e-6 * all_m2.max(1.0));
    for (layer, key) in [("enterprises", "enterprises"), ("schools", "schools")] {
        assert_eq!(
            num(&f[key]["total"]),
            all_features(a, layer, area).len() as u64
        );
    }

    // The children: their events, and (for the first few) their people.
    let kids = f["children"].as_array().unwrap();
    assert!(!kids.is_empty());
    for (i, c) in kids.iter().enumerate() {
        let id = id_of(&c["area"]["id"]);
        let (r, cl, o) = per_child.get(&id).copied().unwrap_or_default();
        assert_eq!(
            (num(&c["reported"]), num(&c["closed"]), num(&c["open"])),
            (r, cl, o),
            "child {id}"
        );
        if i < 3 {
            assert_eq!(
                num(&c["people"]),
                table_total(a, tok, &format!("ledger=people&area={id}"))
            );
            assert_eq!(
                num(&c["houses"]),
                table_total(a, tok, &format!("ledger=houses&area={id}"))
            );
        }
    }
    f
}

/// The leaders of a file against the cadres ledger read through the one
/// table with the same token.
fn check_leaders(a: &str, tok: &str, area: u64, posts: &[&str], f: &Value) {
    let leaders = f["leaders"].as_array().unwrap();
    let mut expected = Vec::new();
    for post in posts {
        let t = get_as(
            a,
            &format!("/api/table?ledger=cadres&area={area}&post={post}&fields=name,phone,area_id&limit=500"),
            tok,
        )
        .json();
        for r in t["rows"].as_array().unwrap() {
            expected.push((post.to_string(), r[0].clone(), r[1].clone(), id_of(&r[2])));
        }
    }
    let got: Vec<(String, Value, Value, u64)> = leaders
        .iter()
        .map(|l| {
            (
                l["post"].as_str().unwrap().to_string(),
                l["name"].clone(),
                l["phone"].clone(),
                id_of(&l["area"]["id"]),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(!got.is_empty());
}

#[test]
fn area_files_end_to_end() {
    let (_dir, city) = small_city();
    let server = start(&city);
    let a = server.addr.as_str();
    // The village with the most idle homesteads (so that their sums are
    // sums), its town and one of its grids.
    let mut per_village: BTreeMap<u64, u64> = BTreeMap::new();
    for g in get(a, "/api/stats?by=district").json()["groups"]
        .as_array()
        .unwrap()
    {
        for h in all_features(a, "homesteads", id_of(&g["key"]["id"])) {
            let unit = id_of(&h["properties"]["unit"]).to_string();
            *per_village.entry(unit[..12].parse().unwrap()).or_default() += 1;
        }
    }
    let (&village, &n) = per_village
        .iter()
        .max_by_key(|(v, n)| (**n, std::cmp::Reverse(**v)))
        .unwrap();
    assert!(n >= 3, "{n} homesteads in the busiest village");
    let town = village / 1000;
    let district = town / 1000;
    let grid = id_of(&get(a, &format!("/api/areas/{village}")).json()["children"][0]["area"]["id"]);
    let far_town = other_town(a, town);
    let ent = get(a, &format!("/api/features/enterprises?area={town}&limit=1")).json()["features"]
        [0]["id"]
        .as_u64()
        .expect("an enterprise in the town");
    drop(server);
    let office = token(&city, "town_office", &format!("area:{town}"), "街道办");
    let far_office = token(&city, "town_office", &format!("area:{far_town}"), "别处");
    let leader = token(&city, "unit_leader", &format!("area:{grid}"), "网格长");
    let viewer = token(&city, "viewer", "city", "审计");
    let feed = token(&city, "ship_feed", "city", "feed");

    let server = start(&city);
    let a = server.addr.as_str();

    // Who may read.
    let path = format!("/api/files/area/{village}");
    assert_eq!(get(a, &path).error(), (401, "unauthorized".into()));
    assert_eq!(get_as(a, &path, "om_nope").error().0, 401);
    assert_eq!(get_as(a, &path, &feed).error(), (403, "forbidden".into()));
    assert_eq!(
        get_as(a, &path, &far_office).error(),
        (403, "forbidden".into())
    );
    // A grid's leader reads the grid, not the village around it.
    assert_eq!(get_as(a, &path, &leader).error(), (403, "forbidden".into()));
    assert_eq!(
        get_as(a, &format!("/api/files/area/{grid}"), &leader).status,
        200
    );
    // Ids that name nothing, and ids that are no ids.
    assert_eq!(
        get_as(a, "/api/files/area/350399999", &viewer).error(),
        (404, "unknown_area".into())
    );
    assert_eq!(
        get_as(a, "/api/files/enterprise/999999999", &viewer).error(),
        (404, "unknown_site".into())
    );
    assert_eq!(
        get_as(a, "/api/files/school/999999999", &viewer).error(),
        (404, "unknown_site".into())
    );
    for bad in ["abc", "3503", "-1", "350304001x"] {
        assert_eq!(
            get_as(a, &format!("/api/files/area/{bad}"), &viewer).error(),
            (400, "invalid_area_id".into()),
            "{bad}"
        );
    }
    assert_eq!(
        get_as(a, "/api/files/enterprise/x1", &viewer).error(),
        (400, "bad_number".into())
    );
    assert_eq!(
        get_as(a, &format!("{path}?until=2026-13"), &viewer).error(),
        (422, "unknown_value".into())
    );
    assert_eq!(
        get_as(a, &format!("{path}?until=soon"), &viewer).error(),
        (400, "bad_time".into())
    );
    assert_eq!(
        get_as(a, &format!("{path}?month=2026-10"), &viewer)
            .error()
            .0,
        400
    );

    // A district, a town and a village, number by number (as the city's
    // auditor).
    let df = check_area(a, &viewer, district, 9);
    assert!(df["children"].as_array().unwrap().len() > 1);
    let tf = check_area(a, &viewer, town, 12);
    assert!(
        tf["coord"]["total"]["onsite"]["before"].as_u64().is_some(),
        "{}",
        tf["coord"]
    );
    assert_eq!(
        tf["coord"],
        get(a, &format!("/api/coord/figures?area={town}")).json()
    );
    let vf = check_area(a, &viewer, village, 15);
    assert!(vf["coord"].is_null());
    assert_eq!(
        vf["area"]["parents"][1]["id"].to_string().trim_matches('"'),
        town.to_string()
    );
    // Without until: the 12 months up to this one.
    let now = get_as(a, &path, &viewer).json();
    assert_eq!(now["events"]["months"].as_array().unwrap().len(), 12);

    // Leaders, masked as the one table masks them for each reader.
    check_leaders(a, &viewer, town, &["party_secretary", "director"], &tf);
    check_leaders(
        a,
        &viewer,
        village,
        &["party_secretary", "director", "grid_leader"],
        &vf,
    );
    let open = get_as(a, &path, &office).json();
    check_leaders(
        a,
        &office,
        village,
        &["party_secretary", "director", "grid_leader"],
        &open,
    );
    assert_eq!(open["access"]["personal"], true);
    assert_eq!(vf["access"]["personal"], false);
    let (clear, masked) = (
        open["leaders"].as_array().unwrap(),
        vf["leaders"].as_array().unwrap(),
    );
    assert_eq!(clear.len(), masked.len());
    for (c, m) in clear.iter().zip(masked) {
        assert_eq!(
            c["name"], m["name"],
            "names are public in the cadres ledger"
        );
        let (c, m) = (c["phone"].as_str().unwrap(), m["phone"].as_str().unwrap());
        assert!(!c.contains('*') && c.len() == 11, "{c}");
        assert_eq!(m, format!("{}****{}", &c[..3], &c[7..]));
    }
    // Everything but the leaders' phones is the same for both.
    let strip = |mut v: Value| {
        v["leaders"] = Value::Null;
        v["access"] = Value::Null;
        v["events"]["now"] = Value::Null;
        v
    };
    let vf_now = get_as(a, &format!("{path}?until=2026-10"), &viewer).json();
    let of_now = get_as(a, &format!("{path}?until=2026-10"), &office).json();
    assert_eq!(strip(vf_now), strip(of_now));

    // An enterprise's file: its place, its events nearby, its inspections.
    let e = get_as(a, &format!("/api/files/enterprise/{ent}"), &office);
    assert_eq!(e.status, 200, "{}", String::from_utf8_lossy(&e.body));
    let e = e.json();
    assert_eq!(id_of(&e["location"]["town"]["id"]), town);
    let feat = get(a, &format!("/api/features/enterprises/{ent}")).json();
    assert_eq!(e["name"], feat["properties"]["name"]);
    let near = get(
        a,
        &format!(
            "/api/nearest/events?lon={}&lat={}&k=20&max_distance=500",
            e["lon"], e["lat"]
        ),
    )
    .json();
    let ids: Vec<u64> = near["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| id_of(&f["id"]))
        .collect();
    let got: Vec<u64> = e["nearby"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| id_of(&f["id"]))
        .collect();
    assert_eq!(got, ids);
    // The same coordination file as the same account reads on /coord (its
    // town's office also sees the enterprise's requests).
    let coord = get_as(a, &format!("/api/coord/enterprises/{ent}"), &office).json();
    assert_eq!(e["coord"], coord);
    assert_eq!(
        get_as(a, &format!("/api/files/enterprise/{ent}"), &far_office).error(),
        (403, "forbidden".into())
    );

    // A school's file, likewise.
    let school = all_features(a, "schools", district)
        .first()
        .map(|f| id_of(&f["id"]))
        .expect("a school in the district");
    let sf = get_as(a, &format!("/api/files/school/{school}"), &viewer).json();
    assert_eq!(sf["kind"], "school");
    assert_eq!(
        sf["name"],
        get(a, &format!("/api/features/schools/{school}")).json()["properties"]["name"]
    );
    assert_eq!(
        sf["coord"],
        get_as(a, &format!("/api/coord/schools/{school}"), &viewer).json()
    );

    // The page itself is served, and documented with the API.
    let page = get(a, "/file?area=1");
    assert_eq!(page.status, 200);
    let doc = get(a, "/api/openapi.json").json();
    for p in [
        "/api/files/area/{id}",
        "/api/files/enterprise/{id}",
        "/api/files/school/{id}",
        "/file",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} is not in the API document"
        );
    }
}
