//! Chinese names for villages, people, ships, sites and companies.

use rand::Rng;

const VILLAGE_FIRST: &[&str] = &[
    "东", "西", "南", "北", "上", "下", "前", "后", "新", "古", "大", "小", "长", "青", "白", "石",
    "龙", "凤", "梅", "桥", "溪", "山", "林", "洋", "坑", "埔", "厝", "塘", "港", "湖", "庄", "田",
    "沙", "岭", "坂", "亭", "华", "兴", "安", "平",
];
const VILLAGE_SECOND: &[&str] = &[
    "星", "阳", "溪", "山", "林", "洋", "坑", "埔", "厝", "塘", "港", "湖", "庄", "田", "沙", "岭",
    "坂", "亭", "桥", "头", "尾", "边", "口", "岐", "墩", "园", "宅", "浦", "峰", "霞", "珠", "源",
    "海", "美", "和", "丰",
];
const SURNAMES: &[&str] = &[
    "林", "陈", "黄", "郑", "吴", "王", "李", "张", "刘", "蔡", "许", "方", "朱", "杨", "余", "翁",
    "宋", "徐", "柯", "卓",
];
const GIVEN: &[&str] = &[
    "建", "国", "华", "明", "志", "文", "丽", "秀", "美", "春", "海", "荣", "金", "玉", "清", "平",
    "德", "福", "英", "辉", "强", "芳", "兰", "斌", "勇", "静", "雪", "峰", "涛", "军",
];

/// A village name unique among `taken` (the caller's set for one town).
pub fn village_name(
    rng: &mut impl Rng,
    urban: bool,
    taken: &mut std::collections::HashSet<String>,
) -> String {
    let suffix = if urban { "社区" } else { "村" };
    for attempt in 0.. {
        let a = VILLAGE_FIRST[rng.random_range(0..VILLAGE_FIRST.len())];
        let b = VILLAGE_SECOND[rng.random_range(0..VILLAGE_SECOND.len())];
        let name = if attempt < 50 {
            format!("{a}{b}{suffix}")
        } else {
            format!("{a}{b}{attempt}{suffix}")
        };
        if a != b && taken.insert(name.clone()) {
            return name;
        }
    }
    unreachable!()
}

pub fn person(rng: &mut impl Rng) -> String {
    let s = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let g1 = GIVEN[rng.random_range(0..GIVEN.len())];
    if rng.random_bool(0.6) {
        let g2 = GIVEN[rng.random_range(0..GIVEN.len())];
        format!("{s}{g1}{g2}")
    } else {
        format!("{s}{g1}")
    }
}

const HERITAGE_KINDS: &[&str] = &[
    "宗祠",
    "古厝",
    "宫",
    "庙",
    "古桥",
    "书院",
    "牌坊",
    "古井",
    "石塔",
    "古民居",
];

pub fn heritage(rng: &mut impl Rng, village: &str, n: u32) -> String {
    let base = village.trim_end_matches("社区").trim_end_matches('村');
    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let kind = HERITAGE_KINDS[rng.random_range(0..HERITAGE_KINDS.len())];
    match kind {
        "宗祠" | "古厝" | "古民居" => format!("{base}{surname}氏{kind}{n}"),
        _ => format!("{base}{kind}{n}"),
    }
}

pub const INDUSTRIES: &[&str] = &[
    "鞋服",
    "工艺美术",
    "食品",
    "电子",
    "建材",
    "物流",
    "医疗",
    "水产",
    "木雕",
    "贸易",
];

pub fn enterprise(rng: &mut impl Rng, town: &str, industry: &str, id: u64) -> String {
    let base = town
        .trim_end_matches("街道")
        .trim_end_matches('镇')
        .trim_end_matches('乡');
    let word = ["兴", "华", "盛", "鑫", "达", "源", "隆", "泰"][rng.random_range(0..8)];
    format!("莆田市{base}{word}{industry}有限公司{id}")
}

pub fn school(town: &str, kind: onemap_core::SchoolKind, n: u32) -> String {
    let base = town
        .trim_end_matches("街道")
        .trim_end_matches('镇')
        .trim_end_matches('乡');
    let k = match kind {
        onemap_core::SchoolKind::Kindergarten => "幼儿园",
        onemap_core::SchoolKind::Primary => "小学",
        onemap_core::SchoolKind::Middle => "中学",
        onemap_core::SchoolKind::High => "高级中学",
    };
    format!("{base}第{n}{k}")
}

/// Port name of a coastal town: "平海渔港".
pub fn port(town: &str) -> String {
    let base = town
        .trim_end_matches("街道")
        .trim_end_matches('镇')
        .trim_end_matches('乡');
    format!("{base}渔港")
}
