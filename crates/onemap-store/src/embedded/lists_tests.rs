//! The lists kept and read back in the GeoPackage file: create, move,
//! history, the hot spot's one open item, a reopened file; and every
//! filtered page against `ListFilter::matches` over all items (proptest).

use super::*;
use crate::EMBEDDED_FILE;
use onemap_core::lists::{ListFilter, NewItem, Owner, OwnerKind};
use onemap_core::{AreaId, ListCategory, ListKind, ListStatus, Role};
use proptest::prelude::*;

fn actor(role: Role, scope: &str) -> Actor {
    Actor {
        role,
        scope: scope.parse().unwrap(),
        name: format!("{role}@{scope}"),
        account: format!("tok_{role}"),
    }
}

fn new(
    kind: ListKind,
    area: u64,
    owner: &str,
    due: Option<&str>,
    hotspot: Option<&str>,
) -> NewItem {
    NewItem {
        kind,
        area: AreaId::new(area).unwrap(),
        title: format!("{kind} at {area}"),
        detail: "细节".into(),
        category: ListCategory::Drainage,
        owner: Owner {
            kind: OwnerKind::Department,
            name: owner.into(),
        },
        due: due.map(String::from),
        events: vec![5, 2],
        hotspot: hotspot.map(String::from),
    }
    .checked()
    .unwrap()
}

#[test]
fn items_persist_with_history_and_one_open_item_per_hotspot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(EMBEDDED_FILE);
    let town = actor(Role::TownOffice, "area:350302001");
    let id;
    {
        let s = EmbeddedStore::open(&path).unwrap();
        let a = s
            .list_create(
                &new(
                    ListKind::Problem,
                    350_302_001_002,
                    "水务局",
                    Some("2026-01-05"),
                    Some("unit:1:drainage"),
                ),
                "镇办",
                100,
            )
            .unwrap();
        id = a.id;
        assert_eq!(a.id, 1);
        assert_eq!(a.events, vec![2, 5]);
        let again = s.list_create(
            &new(
                ListKind::Problem,
                350_302_001_002,
                "水务局",
                Some("2026-01-05"),
                Some("unit:1:drainage"),
            ),
            "镇办",
            101,
        );
        assert!(
            matches!(
                again,
                Err(StoreError::List(ListError::HotspotTaken { item: 1, .. }))
            ),
            "{again:?}"
        );
        let u = ItemUpdate {
            status: Some(ListStatus::InProgress),
            note: Some("开始处理".into()),
            ..Default::default()
        };
        let (item, history) = s.list_update(id, &u, &town, 200).unwrap();
        assert_eq!(item.status, ListStatus::InProgress);
        assert_eq!(history.len(), 2);
        // A refused change writes nothing.
        let bad = ItemUpdate {
            status: Some(ListStatus::Open),
            ..Default::default()
        };
        assert!(s.list_update(id, &bad, &town, 300).is_err());
        let viewer = actor(Role::Viewer, "city");
        let u2 = ItemUpdate {
            status: Some(ListStatus::Done),
            ..Default::default()
        };
        assert!(matches!(
            s.list_update(id, &u2, &viewer, 300),
            Err(StoreError::List(ListError::Forbidden(_)))
        ));
        assert!(matches!(
            s.list_update(99, &u2, &town, 300),
            Err(StoreError::List(ListError::UnknownItem(99)))
        ));
        s.list_update(id, &u2, &town, 400).unwrap();
        // Done: the hot spot may have a new item.
        let b = s
            .list_create(
                &new(
                    ListKind::Problem,
                    350_302_001_002,
                    "水务局",
                    Some("2026-02-05"),
                    Some("unit:1:drainage"),
                ),
                "镇办",
                500,
            )
            .unwrap();
        assert_eq!(b.id, 2);
        // Reopening the first now clashes with the second.
        let reopen = ItemUpdate {
            status: Some(ListStatus::Open),
            note: Some("又来了".into()),
            ..Default::default()
        };
        assert!(matches!(
            s.list_update(id, &reopen, &town, 600),
            Err(StoreError::List(ListError::HotspotTaken { .. }))
        ));
    }
    let s = EmbeddedStore::open(&path).unwrap();
    let (item, history) = s.list_item(id).unwrap().unwrap();
    assert_eq!(item.status, ListStatus::Done);
    assert_eq!(item.updated_at, 400);
    let moves: Vec<_> = history
        .iter()
        .map(|h| (h.change.as_str(), h.to.as_deref()))
        .collect();
    assert_eq!(
        moves,
        vec![
            ("created", Some("open")),
            ("status", Some("in_progress")),
            ("status", Some("done"))
        ]
    );
    assert_eq!(history[1].note.as_deref(), Some("开始处理"));
    assert_eq!(history[1].by, town.name);
    assert!(s.list_item(77).unwrap().is_none());
    assert_eq!(
        s.list_import(&[item]).unwrap(),
        0,
        "import only into empty lists"
    );
}

const AREAS: [u64; 6] = [
    350_302,
    350_302_001,
    350_302_001_002,
    350_302_002_001,
    350_303_001_001,
    350_302_001_002_003,
];

fn items() -> impl Strategy<Value = Vec<ListItem>> {
    prop::collection::vec(
        (
            0..3u8,
            0..6usize,
            0..3u8,
            0..3usize,
            proptest::option::of(1..28u32),
            any::<bool>(),
        ),
        0..40,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (k, a, st, o, due, person))| {
                let kind = ListKind::from_code(k).unwrap();
                let due = match (due, kind) {
                    (None, ListKind::Development) => None,
                    (d, _) => Some(format!("2026-02-{:02}", d.unwrap_or(10))),
                };
                ListItem {
                    id: i as u64 + 1,
                    kind,
                    area: AreaId::new(AREAS[a]).unwrap(),
                    title: format!("t{i}"),
                    detail: String::new(),
                    category: ListCategory::Road,
                    owner: Owner {
                        kind: if person {
                            OwnerKind::Person
                        } else {
                            OwnerKind::Department
                        },
                        name: ["水务局", "城管局", "王五"][o].into(),
                    },
                    status: ListStatus::from_code(st).unwrap(),
                    due,
                    events: vec![],
                    hotspot: None,
                    created_at: 10,
                    created_by: "x".into(),
                    updated_at: 20,
                }
            })
            .collect()
    })
}

fn filters() -> impl Strategy<Value = ListFilter> {
    (
        proptest::option::of(0..6usize),
        prop::collection::vec(0..3u8, 0..3),
        prop::collection::vec(0..3u8, 0..3),
        proptest::option::of(0..3usize),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        1..28u32,
    )
        .prop_map(|(a, k, s, o, ok, over, day)| ListFilter {
            area: a.map(|a| AreaId::new(AREAS[a]).unwrap()),
            kinds: k
                .into_iter()
                .map(|k| ListKind::from_code(k).unwrap())
                .collect(),
            statuses: s
                .into_iter()
                .map(|s| ListStatus::from_code(s).unwrap())
                .collect(),
            owner: o.map(|o| ["水务局", "城管局", "王五"][o].to_string()),
            owner_kind: ok.map(|p| {
                if p {
                    OwnerKind::Person
                } else {
                    OwnerKind::Department
                }
            }),
            overdue: over,
            hotspot: None,
            today: format!("2026-02-{day:02}"),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn pages_are_the_filter_over_every_item(all in items(), f in filters(), offset in 0..45usize, limit in 1..12usize) {
        let dir = tempfile::tempdir().unwrap();
        let s = EmbeddedStore::open(&dir.path().join(EMBEDDED_FILE)).unwrap();
        prop_assert_eq!(s.list_import(&all).unwrap(), all.len());
        let mut want: Vec<&ListItem> = all.iter().filter(|i| f.matches(i)).collect();
        want.sort_by(|a, b| onemap_core::lists::order(a, b));
        let page = s.list_page(&f, offset, limit).unwrap();
        prop_assert_eq!(page.total as usize, want.len());
        let want: Vec<ListItem> = want.into_iter().skip(offset).take(limit).cloned().collect();
        prop_assert_eq!(page.rows, want);
    }
}
