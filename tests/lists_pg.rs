//! The lists in both live stores (issue 16 item 5): the same demo items
//! and the same changes given to the GeoPackage file and to a real PostGIS
//! (`onemap db migrate`), read back equal — pages under many filters
//! (checked against a brute-force filter too), items with their history,
//! the hot spot's one open item, refused changes writing nothing — and the
//! real server over `--postgres` keeps a new item in `list_items`;
//! `onemap import` and `export` carry a city's `lists.json`.
//!
//! Needs `ONEMAP_TEST_POSTGRES` (see tests/pg_live.rs); fails without it.

mod http_support;
mod pg_db;

use http_support::{post, start_with, token_with};
use onemap_core::lists::{ItemUpdate, ListError, ListFilter, ListItem, NewItem, Owner, OwnerKind};
use onemap_core::workflow::Actor;
use onemap_core::{AreaId, Level, ListCategory, ListKind, ListStatus, Role};
use onemap_store::{EmbeddedStore, LiveStore, PgLive, StoreError};
use pg_db::{city_in, ok, TestDb};
use std::sync::Arc;

fn actor(role: Role, scope: &str) -> Actor {
    Actor {
        role,
        scope: scope.parse().unwrap(),
        name: format!("{role}"),
        account: "tok_t".into(),
    }
}

fn brute(items: &[ListItem], f: &ListFilter) -> Vec<u64> {
    let mut ids: Vec<u64> = items
        .iter()
        .filter(|i| {
            let a = i.area.to_string();
            f.area.is_none_or(|t| a.starts_with(&t.to_string()))
                && (f.kinds.is_empty() || f.kinds.contains(&i.kind))
                && (f.statuses.is_empty() || f.statuses.contains(&i.status))
                && f.owner.as_ref().is_none_or(|o| *o == i.owner.name)
                && f.overdue.is_none_or(|o| {
                    o == (i.status != ListStatus::Done
                        && i.due.as_deref().is_some_and(|d| d < f.today.as_str()))
                })
        })
        .map(|i| i.id)
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids
}

#[test]
fn both_stores_keep_the_lists_alike() {
    let db = TestDb::new();
    ok(&["db", "migrate", "--postgres", &db.url]);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = onemap_synth::SynthConfig {
        seed: 11,
        scale: 0.01,
        events: Some(3_000),
        ..Default::default()
    };
    let (meta, city) = onemap_synth::generate(&cfg).unwrap();
    let demo =
        onemap_synth::lists::list_items(&city.areas, &city.events, 11, meta.history_end.unwrap());
    assert!(demo.len() > 20);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pg = LiveStore::Postgres(Arc::new(PgLive::new(&db.url).unwrap()));
        let gpkg = LiveStore::Embedded(Arc::new(
            EmbeddedStore::open(&tmp.path().join("onemap.gpkg")).unwrap(),
        ));
        let stores = [gpkg, pg];
        for s in &stores {
            assert_eq!(s.list_import(demo.clone()).await.unwrap(), demo.len());
            assert_eq!(s.list_import(demo.clone()).await.unwrap(), 0);
        }
        // The same changes to both.
        let village = demo[0].area;
        let town = village.ancestor_at(Level::Town).unwrap();
        let office = actor(Role::TownOffice, &format!("area:{town}"));
        let new = NewItem {
            kind: ListKind::Problem,
            area: village,
            title: "村口积水".into(),
            detail: "雨后积水".into(),
            category: ListCategory::Drainage,
            owner: Owner {
                kind: OwnerKind::Department,
                name: "水利局".into(),
            },
            due: Some("2027-01-15".into()),
            events: vec![9, 3],
            hotspot: Some("unit:1:drainage".into()),
        };
        let mut answers = Vec::new();
        for s in &stores {
            let a = s
                .list_create(new.clone(), "镇办".into(), 1_800_000_000)
                .await
                .unwrap();
            let again = s
                .list_create(new.clone(), "镇办".into(), 1_800_000_001)
                .await;
            assert!(
                matches!(again, Err(StoreError::List(ListError::HotspotTaken { .. }))),
                "{again:?}"
            );
            let up = |status, note: Option<&str>| ItemUpdate {
                status: Some(status),
                note: note.map(String::from),
                ..Default::default()
            };
            s.list_update(
                a.id,
                up(ListStatus::InProgress, Some("派人")),
                office.clone(),
                1_800_000_100,
            )
            .await
            .unwrap();
            // Refused: a skipped step, a viewer, an unknown item.
            assert!(s
                .list_update(
                    a.id,
                    up(ListStatus::Open, None),
                    office.clone(),
                    1_800_000_150
                )
                .await
                .is_err());
            assert!(s
                .list_update(
                    a.id,
                    up(ListStatus::Done, None),
                    actor(Role::Viewer, "city"),
                    1_800_000_150
                )
                .await
                .is_err());
            assert!(matches!(
                s.list_update(
                    9_999_999,
                    up(ListStatus::Done, None),
                    office.clone(),
                    1_800_000_150
                )
                .await,
                Err(StoreError::List(ListError::UnknownItem(_)))
            ));
            let owner = ItemUpdate {
                owner: Some(Owner {
                    kind: OwnerKind::Person,
                    name: "林一".into(),
                }),
                due: Some(Some("2027-02-01".into())),
                note: Some("改派".into()),
                ..Default::default()
            };
            s.list_update(a.id, owner, office.clone(), 1_800_000_200)
                .await
                .unwrap();
            s.list_update(
                a.id,
                up(ListStatus::Done, None),
                office.clone(),
                1_800_000_300,
            )
            .await
            .unwrap();
            let b = s
                .list_create(new.clone(), "镇办".into(), 1_800_000_400)
                .await
                .unwrap();
            assert_eq!(b.id, a.id + 1, "a done hot spot takes a new item");
            answers.push((
                a.id,
                s.list_item(a.id).await.unwrap().unwrap(),
                s.list_item(b.id).await.unwrap().unwrap(),
            ));
        }
        assert_eq!(
            answers[0], answers[1],
            "both stores hold the same items and history"
        );
        let (_, (item, history), _) = &answers[0];
        assert_eq!(item.status, ListStatus::Done);
        assert_eq!(item.owner.name, "林一");
        assert_eq!(item.events, vec![3, 9]);
        let steps: Vec<(&str, Option<&str>)> = history
            .iter()
            .map(|h| (h.change.as_str(), h.to.as_deref()))
            .collect();
        assert_eq!(
            steps,
            vec![
                ("created", Some("open")),
                ("status", Some("in_progress")),
                ("owner", Some("林一")),
                ("due", Some("2027-02-01")),
                ("status", Some("done")),
            ]
        );
        assert_eq!(history[2].note.as_deref(), Some("改派"));
        // Every item, read back whole from each store, is the same.
        let everything = ListFilter {
            today: "2026-11-01".into(),
            ..Default::default()
        };
        let mut all = Vec::new();
        for s in &stores {
            let p = s.list_page(everything.clone(), 0, 500).await.unwrap();
            let mut rows = p.rows;
            let mut off = 500;
            while rows.len() < p.total as usize {
                rows.extend(
                    s.list_page(everything.clone(), off, 500)
                        .await
                        .unwrap()
                        .rows,
                );
                off += 500;
            }
            all.push(rows);
        }
        assert_eq!(all[0], all[1]);
        let items = all.remove(0);
        assert_eq!(items.len(), demo.len() + 2);
        // Pages under filters: the stores agree with each other and with
        // the brute force.
        let district = village.ancestor_at(Level::District).unwrap();
        let owner = demo[1].owner.name.clone();
        let filters = vec![
            ListFilter {
                area: Some(town),
                kinds: vec![ListKind::Problem],
                statuses: vec![ListStatus::Open, ListStatus::InProgress],
                today: "2026-11-01".into(),
                ..Default::default()
            },
            ListFilter {
                area: Some(district),
                kinds: vec![ListKind::Task],
                overdue: Some(true),
                today: "2026-09-01".into(),
                ..Default::default()
            },
            ListFilter {
                area: Some(village),
                overdue: Some(false),
                today: "2026-09-01".into(),
                ..Default::default()
            },
            ListFilter {
                owner: Some(owner),
                today: "2026-11-01".into(),
                ..Default::default()
            },
            ListFilter {
                statuses: vec![ListStatus::Done],
                kinds: vec![ListKind::Development, ListKind::Problem],
                today: "2026-11-01".into(),
                ..Default::default()
            },
            ListFilter {
                area: Some(AreaId::new(village.get() * 1000 + 1).unwrap()),
                today: "2026-11-01".into(),
                ..Default::default()
            },
        ];
        for f in &filters {
            let want = brute(&items, f);
            for s in &stores {
                let got = s.list_page(f.clone(), 0, 500).await.unwrap();
                assert_eq!(got.total as usize, want.len(), "{f:?}");
                assert_eq!(
                    got.rows.iter().map(|i| i.id).collect::<Vec<_>>(),
                    want,
                    "{f:?}"
                );
                let page = s.list_page(f.clone(), 2, 3).await.unwrap();
                assert_eq!(
                    page.rows.iter().map(|i| i.id).collect::<Vec<_>>(),
                    want.iter().skip(2).take(3).copied().collect::<Vec<_>>()
                );
            }
        }
    });

    // The real server over PostGIS keeps a new item.
    let cdb = TestDb::new();
    city_in(&cdb, &tmp.path().join("city"), "5", None);
    let file: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("city").join("lists.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        cdb.count("list_items") as usize,
        file.len(),
        "onemap import puts the city's lists.json into PostGIS"
    );
    let (items, history) = (cdb.count("list_items"), cdb.count("list_history"));
    let server = start_with(&["--postgres", &cdb.url]);
    let a = server.addr.as_str();
    let v = http_support::get(a, "/api/locate?lon=119.0&lat=25.45").json();
    let village = v["village"]["id"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| v["village"]["id"].to_string());
    let tok = token_with(
        &["--postgres", &cdb.url],
        "town_office",
        &format!("area:{}", &village[..9]),
        "镇办",
    );
    let body = serde_json::json!({"kind": "task", "area": village, "title": "核查台账", "category": "governance",
        "owner": {"kind": "person", "name": "林一"}, "due": "2030-01-01"});
    let r = post(a, "/api/lists", Some(&tok), &body.to_string());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(cdb.count("list_items"), items + 1);
    assert_eq!(cdb.count("list_history"), history + 1);
    let id = r.json()["id"].as_u64().unwrap();
    let r = post(
        a,
        &format!("/api/lists/{id}"),
        Some(&tok),
        r#"{"status":"in_progress","note":"开始"}"#,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(cdb.count("list_history"), history + 2);
    // onemap export writes them back, the new one with them.
    let out = tmp.path().join("exported");
    pg_db::ok(&["export", "--postgres", &cdb.url, out.to_str().unwrap()]);
    let back: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("lists.json")).unwrap()).unwrap();
    assert_eq!(back.len(), file.len() + 1);
    assert_eq!(
        back[..file.len()],
        file[..],
        "the untouched items come back as they went"
    );
    assert_eq!(back[file.len()]["status"], "in_progress");
}
