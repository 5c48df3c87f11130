//! The demo's problem, development and task lists: a few items per
//! village, from the seed and the village's own events. Each village gets
//! a problem for each of its two most reported event categories (owned by
//! the district's department for it, linking that category's latest
//! events there), one or two development items owned by a village cadre,
//! and two or three tasks with due dates; some are done, some in progress,
//! and some are past due. Same seed, same items.

use crate::names;
use onemap_core::lists::{ListItem, Owner, OwnerKind};
use onemap_core::time::cst_date;
use onemap_core::{
    AreaId, AreaTree, Event, EventCategory, Level, ListCategory, ListKind, ListStatus,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

const DAY: i64 = 86_400;
/// Events a demo problem links, at most.
const LINKED: usize = 20;

/// The department a problem of this category goes to (prefixed with the
/// district's name).
fn department(c: EventCategory) -> &'static str {
    match c {
        EventCategory::Drainage => "水利局",
        EventCategory::Sanitation => "城市管理局",
        EventCategory::Dispute => "司法局",
        EventCategory::Road => "交通运输局",
        EventCategory::SafetyHazard => "应急管理局",
        EventCategory::IllegalBuilding => "自然资源局",
        EventCategory::PublicOrder => "公安分局",
        EventCategory::Other => "信访局",
    }
}

fn problem_title(c: EventCategory) -> &'static str {
    match c {
        EventCategory::Drainage => "雨后道路积水、排水不畅反复发生",
        EventCategory::Sanitation => "垃圾堆放点清运不及时",
        EventCategory::Dispute => "邻里纠纷调处后反复",
        EventCategory::Road => "村道破损、路灯不亮",
        EventCategory::SafetyHazard => "老旧房屋和电线存在安全隐患",
        EventCategory::IllegalBuilding => "违章搭建屡拆屡建",
        EventCategory::PublicOrder => "夜间噪音和聚集扰民",
        EventCategory::Other => "群众反映的其他问题较集中",
    }
}

const DEVELOPMENT: &[(&str, ListCategory)] = &[
    ("发展特色农产品种植与电商销售", ListCategory::Industry),
    ("建设村级文化广场和农家书屋", ListCategory::Culture),
    ("推进闲置宅基地拆除复垦", ListCategory::Infrastructure),
    ("打造乡村旅游线路", ListCategory::Culture),
    ("提升村容村貌和污水处理", ListCategory::Environment),
    ("发展村集体经济合作社", ListCategory::Industry),
    ("建设居家养老服务站", ListCategory::Livelihood),
];

const TASKS: &[(&str, ListCategory)] = &[
    ("完成网格人口信息核查更新", ListCategory::Governance),
    ("开展汛前排水设施检查", ListCategory::Drainage),
    ("组织消防安全宣传进村入户", ListCategory::SafetyHazard),
    ("走访关爱人群并更新台账", ListCategory::Livelihood),
    ("整治房前屋后环境卫生", ListCategory::Sanitation),
    ("排查矛盾纠纷并登记化解", ListCategory::Dispute),
    ("核查违章建筑整改情况", ListCategory::IllegalBuilding),
];

/// The demo's items for every village of `areas`, ids from 1 in village
/// order, dated before `history_end` (the end of the city's history).
pub fn list_items(
    areas: &AreaTree,
    events: &[Event],
    seed: u64,
    history_end: i64,
) -> Vec<ListItem> {
    // Each village's events by category, latest last.
    let mut by_village: HashMap<AreaId, [Vec<(i64, u64)>; 8]> = HashMap::new();
    for e in events {
        if let Some(v) = e.unit.ancestor_at(Level::Village) {
            by_village.entry(v).or_default()[e.category.code() as usize]
                .push((e.reported_at, e.id));
        }
    }
    let name = |id: AreaId| areas.get(id).map_or_else(String::new, |a| a.name.clone());
    let mut out = Vec::new();
    for v in areas.level(Level::Village) {
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed ^ v.id.get().wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let town = v.id.ancestor_at(Level::Town).map(name).unwrap_or_default();
        let district =
            v.id.ancestor_at(Level::District)
                .map(name)
                .unwrap_or_default();
        let by = format!("{town}综治办");
        let mut push = |rng: &mut ChaCha8Rng,
                        kind: ListKind,
                        title: String,
                        detail: String,
                        category: ListCategory,
                        owner: Owner,
                        due_needed: bool,
                        events: Vec<u64>| {
            let created_at = history_end - rng.random_range(20..240) * DAY;
            let status = match rng.random_range(0..10) {
                0..=3 => ListStatus::Open,
                4..=6 => ListStatus::InProgress,
                _ => ListStatus::Done,
            };
            let updated_at = match status {
                ListStatus::Open => created_at,
                _ => (created_at + rng.random_range(1..30) * DAY).min(history_end - DAY),
            };
            let due = (due_needed || rng.random_bool(0.5))
                .then(|| cst_date(created_at + rng.random_range(30..150) * DAY));
            out.push(ListItem {
                id: 0,
                kind,
                area: v.id,
                title,
                detail,
                category,
                owner,
                status,
                due,
                events,
                hotspot: None,
                created_at,
                created_by: by.clone(),
                updated_at,
            });
        };
        let empty: [Vec<(i64, u64)>; 8] = Default::default();
        let mine = by_village.get(&v.id).unwrap_or(&empty);
        let mut ranked: Vec<usize> = (0..8).filter(|c| !mine[*c].is_empty()).collect();
        ranked.sort_by_key(|c| (std::cmp::Reverse(mine[*c].len()), *c));
        for &c in ranked.iter().take(2) {
            let cat = EventCategory::from_code(c as u8).expect("a category code");
            let mut ids: Vec<u64> = mine[c].iter().rev().take(LINKED).map(|e| e.1).collect();
            ids.sort_unstable();
            push(
                &mut rng,
                ListKind::Problem,
                format!("{}{}", v.name, problem_title(cat)),
                format!(
                    "{}共上报{}起此类事件，需研究长效整治办法。",
                    v.name,
                    mine[c].len()
                ),
                ListCategory::of_event(cat),
                Owner {
                    kind: OwnerKind::Department,
                    name: format!("{district}{}", department(cat)),
                },
                true,
                ids,
            );
        }
        for _ in 0..rng.random_range(1..=2) {
            let (t, c) = DEVELOPMENT[rng.random_range(0..DEVELOPMENT.len())];
            let cadre = names::person(&mut rng);
            push(
                &mut rng,
                ListKind::Development,
                format!("{}{t}", v.name),
                format!("{t}，由村两委牵头推进。"),
                c,
                Owner {
                    kind: OwnerKind::Person,
                    name: cadre,
                },
                false,
                vec![],
            );
        }
        for _ in 0..rng.random_range(2..=3) {
            let (t, c) = TASKS[rng.random_range(0..TASKS.len())];
            let owner = if rng.random_bool(0.5) {
                Owner {
                    kind: OwnerKind::Person,
                    name: names::person(&mut rng),
                }
            } else {
                Owner {
                    kind: OwnerKind::Department,
                    name: format!("{town}综治办"),
                }
            };
            push(
                &mut rng,
                ListKind::Task,
                t.to_string(),
                format!("{}：{t}。", v.name),
                c,
                owner,
                true,
                vec![],
            );
        }
    }
    for (i, item) in out.iter_mut().enumerate() {
        item.id = i as u64 + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{generate, SynthConfig};

    #[test]
    fn the_demo_lists_are_plausible_and_the_same_for_the_same_seed() {
        let cfg = SynthConfig {
            seed: 7,
            scale: 0.01,
            events: Some(3_000),
            ..Default::default()
        };
        let (meta, city) = generate(&cfg).unwrap();
        let end = meta.history_end.unwrap();
        let a = list_items(&city.areas, &city.events, 7, end);
        let b = list_items(&city.areas, &city.events, 7, end);
        assert_eq!(a, b);
        let villages = city.areas.level(Level::Village).len();
        assert!(
            a.len() >= villages * 3 && a.len() <= villages * 7,
            "{}",
            a.len()
        );
        let events: HashMap<u64, &Event> = city.events.iter().map(|e| (e.id, e)).collect();
        for i in &a {
            i.area
                .level()
                .filter(|l| *l == Level::Village)
                .expect("at a village");
            for id in &i.events {
                let e = events[id];
                assert_eq!(e.unit.ancestor_at(Level::Village), Some(i.area));
                assert_eq!(ListCategory::of_event(e.category), i.category);
            }
            if i.kind != ListKind::Development {
                assert!(i.due.is_some());
            }
            assert!(i.updated_at >= i.created_at && i.updated_at < end);
        }
        for s in ListStatus::ALL {
            assert!(a.iter().any(|i| i.status == *s), "{s}");
        }
        let today = cst_date(end);
        assert!(a.iter().any(|i| onemap_core::lists::is_overdue(i, &today)));
        assert!(a
            .iter()
            .any(|i| i.kind == ListKind::Problem && !i.events.is_empty()));
    }
}
