//! The shape of Putian, drawn coarsely by hand inside its real extent: the
//! mainland, Meizhou and Nanri islands, the sea, and the districts with
//! their real names. The generator roughens these outlines with noise.

/// The mainland, clockwise from the north-west, lon/lat.
pub const MAINLAND: &[(f64, f64)] = &[
    (118.50, 25.55),
    (118.62, 25.68),
    (118.80, 25.745),
    (118.98, 25.765),
    (119.12, 25.72),
    (119.25, 25.66),
    (119.36, 25.58),
    (119.30, 25.50),
    (119.22, 25.47),
    (119.15, 25.40),
    (119.20, 25.35),
    (119.28, 25.33),
    (119.34, 25.27),
    (119.30, 25.21),
    (119.25, 25.12),
    (119.20, 25.105),
    (119.145, 25.135),
    (119.08, 25.17),
    (119.03, 25.22),
    (118.98, 25.18),
    (118.95, 25.10),
    (118.92, 25.04),
    (118.85, 25.06),
    (118.75, 25.11),
    (118.65, 25.09),
    (118.55, 25.17),
    (118.47, 25.30),
    (118.46, 25.42),
];

/// Meizhou Island (湄洲岛), lying north-east to south-west off the Xiuyu peninsula.
pub const MEIZHOU: &[(f64, f64)] = &[
    (119.095, 25.040),
    (119.118, 25.046),
    (119.150, 25.082),
    (119.152, 25.104),
    (119.135, 25.100),
    (119.112, 25.072),
    (119.092, 25.055),
];

/// Nanri Island (南日岛), part of Xiuyu district.
pub const NANRI: &[(f64, f64)] = &[
    (119.430, 25.205),
    (119.490, 25.185),
    (119.560, 25.205),
    (119.550, 25.240),
    (119.500, 25.250),
    (119.450, 25.232),
];

/// The monitored sea: Xinghua Bay, Meizhou Bay and the open water east and
/// south. A point is at sea when it is inside this and not on land.
pub const SEA: &[(f64, f64)] = &[
    (119.28, 25.60),
    (119.65, 25.60),
    (119.65, 24.98),
    (118.88, 24.98),
    (118.90, 25.07),
    (118.97, 25.16),
    (119.03, 25.26),
    (119.12, 25.43),
    (119.22, 25.52),
];

/// The centre of the city (Chengxiang/Licheng), where density peaks.
pub const CITY_CENTRE: (f64, f64) = (119.01, 25.44);

pub struct DistrictSpec {
    pub code: u64,
    pub name: &'static str,
    /// Where the district grows from.
    pub seed: (f64, f64),
    /// Relative growth speed: larger districts grow faster.
    pub speed: f64,
    pub towns: &'static [&'static str],
}

/// The seven county-level districts and their 54 towns and streets.
pub const DISTRICTS: &[DistrictSpec] = &[
    DistrictSpec {
        code: 350302,
        name: "城厢区",
        seed: (118.93, 25.40),
        speed: 1.05,
        towns: &[
            "龙桥街道",
            "凤凰山街道",
            "霞林街道",
            "常太镇",
            "华亭镇",
            "灵川镇",
            "东海镇",
        ],
    },
    DistrictSpec {
        code: 350303,
        name: "涵江区",
        seed: (119.10, 25.60),
        speed: 1.3,
        towns: &[
            "涵东街道",
            "涵西街道",
            "三江口镇",
            "白塘镇",
            "国欢镇",
            "梧塘镇",
            "江口镇",
            "萩芦镇",
            "白沙镇",
            "庄边镇",
            "新县镇",
        ],
    },
    DistrictSpec {
        code: 350304,
        name: "荔城区",
        seed: (119.08, 25.42),
        speed: 0.8,
        towns: &[
            "镇海街道",
            "拱辰街道",
            "西天尾镇",
            "黄石镇",
            "新度镇",
            "北高镇",
        ],
    },
    DistrictSpec {
        code: 350305,
        name: "秀屿区",
        seed: (119.22, 25.24),
        speed: 1.0,
        towns: &[
            "笏石镇",
            "东庄镇",
            "忠门镇",
            "东峤镇",
            "埭头镇",
            "平海镇",
            "南日镇",
            "月塘镇",
        ],
    },
    DistrictSpec {
        code: 350322,
        name: "仙游县",
        seed: (118.68, 25.38),
        speed: 1.7,
        towns: &[
            "鲤城街道",
            "鲤南镇",
            "枫亭镇",
            "榜头镇",
            "郊尾镇",
            "度尾镇",
            "大济镇",
            "龙华镇",
            "赖店镇",
            "盖尾镇",
            "园庄镇",
            "钟山镇",
            "游洋镇",
            "书峰乡",
            "石苍乡",
            "社硎乡",
            "菜溪乡",
            "西苑乡",
        ],
    },
    DistrictSpec {
        code: 350391,
        name: "湄洲岛",
        seed: (119.125, 25.075),
        speed: 1.0,
        towns: &["湄洲镇"],
    },
    DistrictSpec {
        code: 350392,
        name: "北岸",
        seed: (119.00, 25.235),
        speed: 0.75,
        towns: &["山亭镇", "东埔镇", "港里街道"],
    },
];

/// Villages named in the domain context with their towns: 东星社区 is in
/// 荔城区西天尾镇, 常溪社区 and 屏山村 in 黄石镇 (CONTEXT.md); the context
/// gives no town for 大坂村 and 东阳村. A town's named villages are its
/// first villages, in this order.
pub const NAMED_VILLAGES: &[(&str, &str)] = &[
    ("西天尾镇", "东星社区"),
    ("黄石镇", "东阳村"),
    ("黄石镇", "常溪社区"),
    ("黄石镇", "屏山村"),
    ("北高镇", "大坂村"),
];

/// The town of the community with its own, much longer event history
/// (26,090 events at full scale): 东星社区, the first village of 西天尾镇
/// in [`NAMED_VILLAGES`].
pub const BUSY_TOWN: &str = "西天尾镇";

/// The `ordinal`-th (from 1) named village of `town`, if it has one.
pub fn named_village(town: &str, ordinal: u32) -> Option<&'static str> {
    NAMED_VILLAGES
        .iter()
        .filter(|(t, _)| *t == town)
        .nth(ordinal.checked_sub(1)? as usize)
        .map(|(_, v)| *v)
}

/// How many villages `town` has at least: one, or as many as it has named.
pub fn min_villages_of(town: &str) -> u32 {
    (NAMED_VILLAGES.iter().filter(|(t, _)| *t == town).count() as u32).max(1)
}

/// The fewest villages the city has at any scale: each town's minimum.
pub fn min_villages() -> u32 {
    DISTRICTS
        .iter()
        .flat_map(|d| d.towns)
        .map(|t| min_villages_of(t))
        .sum()
}

/// Ray-casting point-in-polygon for the hand-drawn outlines.
pub fn in_ring(ring: &[(f64, f64)], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_four_towns_and_seeds_on_land() {
        assert_eq!(DISTRICTS.iter().map(|d| d.towns.len()).sum::<usize>(), 54);
        for d in DISTRICTS {
            let (lon, lat) = d.seed;
            let on_land = in_ring(MAINLAND, lon, lat) || in_ring(MEIZHOU, lon, lat);
            assert!(on_land, "{} seed at sea", d.name);
        }
        assert!(in_ring(MEIZHOU, 119.125, 25.075));
        assert!(!in_ring(MAINLAND, 119.125, 25.075));
    }

    #[test]
    fn named_villages_are_in_towns_of_the_city() {
        for (town, _) in NAMED_VILLAGES {
            assert!(
                DISTRICTS.iter().any(|d| d.towns.contains(town)),
                "{town} is a town"
            );
        }
        assert_eq!(named_village("黄石镇", 2), Some("常溪社区"));
        assert_eq!(named_village("黄石镇", 4), None);
        assert_eq!(named_village("西天尾镇", 0), None);
        assert_eq!(min_villages_of("黄石镇"), 3);
        assert_eq!(min_villages_of("新度镇"), 1);
        assert_eq!(min_villages(), 56);
    }
}
