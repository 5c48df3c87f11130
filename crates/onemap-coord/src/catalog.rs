//! The fixed vocabulary of coordination: departments, the subjects they
//! inspect or teach, which subjects may be checked from documents, which may
//! not share a visit, and the typical findings of each. Every value has a
//! Chinese name (what people read) and a stable English code (what files,
//! URLs and JSON carry).

use onemap_core::AreaId;
use serde::{Deserialize, Serialize};

/// Declares a catalog enum with a stable code and a Chinese name; it is
/// written as its code in JSON and parsed from it.
macro_rules! catalog_enum {
    ($(#[$m:meta])* $name:ident, $kind:literal { $($variant:ident => ($code:literal, $zh:literal)),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable English code.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            /// The Chinese name.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::CoordError;
            fn from_str(s: &str) -> Result<Self, $crate::CoordError> {
                match s.trim() {
                    $($code => Ok($name::$variant),)+
                    _ => Err($crate::CoordError::UnknownValue {
                        kind: $kind,
                        value: s.chars().take(40).collect(),
                        expected: [$($code),+].join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <String as serde::Deserialize>::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

catalog_enum!(
    /// A kind of department; each district has one of each (see [`Department`]).
    DeptKind, "department" {
        Emergency => ("emergency", "应急管理局"),
        Ecology => ("ecology", "生态环境局"),
        Market => ("market", "市场监督管理局"),
        Fire => ("fire", "消防救援大队"),
        Hrss => ("hrss", "人力资源和社会保障局"),
        Housing => ("housing", "住房和城乡建设局"),
        Health => ("health", "卫生健康局"),
        Statistics => ("statistics", "统计局"),
        Transport => ("transport", "交通运输局"),
        Water => ("water", "水利局"),
        Fisheries => ("fisheries", "海洋与渔业局"),
        Police => ("police", "公安分局"),
        TrafficPolice => ("traffic_police", "交警大队"),
        Justice => ("justice", "司法局"),
        AntiDrug => ("anti_drug", "禁毒办"),
        Science => ("science", "科学技术协会"),
        Women => ("women", "妇女联合会"),
        Youth => ("youth", "共青团委员会"),
        Cyberspace => ("cyberspace", "网信办"),
    }
);

catalog_enum!(
    /// What a plan checks (an inspection subject) or teaches (a publicity
    /// subject, for schools).
    Subject, "subject" {
        WorkSafety => ("work_safety", "安全生产"),
        HazardousChemicals => ("hazardous_chemicals", "危险化学品"),
        FireSafety => ("fire_safety", "消防安全"),
        Environment => ("environment", "生态环保"),
        FoodSafety => ("food_safety", "食品安全"),
        SpecialEquipment => ("special_equipment", "特种设备"),
        ProductQuality => ("product_quality", "产品质量"),
        MedicalDevices => ("medical_devices", "医疗器械"),
        Labour => ("labour", "劳动保障"),
        OccupationalHealth => ("occupational_health", "职业健康"),
        ConstructionSafety => ("construction_safety", "建筑施工安全"),
        GasSafety => ("gas_safety", "燃气安全"),
        Statistics => ("statistics", "统计"),
        RoadTransport => ("road_transport", "道路运输安全"),
        WaterAbstraction => ("water_abstraction", "取水用水"),
        AquaticProducts => ("aquatic_products", "水产品质量"),
        SchoolHygiene => ("school_hygiene", "学校卫生"),
        CampusSecurity => ("campus_security", "校园安保"),
        TrafficEducation => ("traffic_education", "交通安全教育"),
        AntiFraudEducation => ("anti_fraud_education", "反诈宣传"),
        FireEducation => ("fire_education", "消防安全教育"),
        HealthEducation => ("health_education", "健康教育"),
        LegalEducation => ("legal_education", "法治教育"),
        DisasterEducation => ("disaster_education", "防灾减灾教育"),
        AntiDrugEducation => ("anti_drug_education", "禁毒宣传"),
        DrowningPrevention => ("drowning_prevention", "防溺水教育"),
        ScienceOutreach => ("science_outreach", "科普活动"),
        ChildProtection => ("child_protection", "儿童保护教育"),
        YouthEducation => ("youth_education", "青少年思想教育"),
        EcoEducation => ("eco_education", "生态环保教育"),
        CyberSafety => ("cyber_safety", "网络安全教育"),
    }
);

impl Subject {
    /// The kind of department that plans this subject.
    pub fn department(self) -> DeptKind {
        use DeptKind as D;
        use Subject::*;
        match self {
            WorkSafety | HazardousChemicals | DisasterEducation => D::Emergency,
            FireSafety | FireEducation => D::Fire,
            Environment | EcoEducation => D::Ecology,
            FoodSafety | SpecialEquipment | ProductQuality | MedicalDevices => D::Market,
            Labour => D::Hrss,
            OccupationalHealth | SchoolHygiene | HealthEducation => D::Health,
            ConstructionSafety | GasSafety => D::Housing,
            Statistics => D::Statistics,
            RoadTransport => D::Transport,
            WaterAbstraction | DrowningPrevention => D::Water,
            AquaticProducts => D::Fisheries,
            CampusSecurity | AntiFraudEducation => D::Police,
            TrafficEducation => D::TrafficPolice,
            LegalEducation => D::Justice,
            AntiDrugEducation => D::AntiDrug,
            ScienceOutreach => D::Science,
            ChildProtection => D::Women,
            YouthEducation => D::Youth,
            CyberSafety => D::Cyberspace,
        }
    }

    /// A publicity subject (a talk or a class in a school) rather than an
    /// inspection.
    pub fn is_publicity(self) -> bool {
        use Subject::*;
        matches!(
            self,
            TrafficEducation
                | AntiFraudEducation
                | FireEducation
                | HealthEducation
                | LegalEducation
                | DisasterEducation
                | AntiDrugEducation
                | DrowningPrevention
                | ScienceOutreach
                | ChildProtection
                | YouthEducation
                | EcoEducation
                | CyberSafety
        )
    }

    /// Whether the subject can be checked from documents sent in (ledgers,
    /// reports, wage records) or, for publicity, delivered as an online
    /// class: the condition of the online rule.
    pub fn online_ok(self) -> bool {
        use Subject::*;
        self.is_publicity()
            || matches!(
                self,
                Labour | OccupationalHealth | Statistics | WaterAbstraction
            )
    }

    /// Subjects a school is inspected for.
    pub const SCHOOL_INSPECTIONS: &'static [Subject] = &[
        Subject::FoodSafety,
        Subject::FireSafety,
        Subject::SchoolHygiene,
        Subject::CampusSecurity,
    ];

    /// Typical findings of the subject: `(code, Chinese text)`; the first is
    /// the most common.
    pub fn findings(self) -> &'static [(&'static str, &'static str)] {
        use Subject::*;
        match self {
            WorkSafety => &[
                ("guard_missing", "设备防护罩缺失"),
                ("training_ledger", "安全培训台账不全"),
            ],
            HazardousChemicals => &[
                ("chemicals_mixed", "危化品混存、未分区存放"),
                ("msds_missing", "危化品安全技术说明书缺失"),
            ],
            FireSafety => &[
                ("exit_blocked", "安全出口、疏散通道堵塞"),
                ("extinguisher_expired", "灭火器过期未更换"),
            ],
            Environment => &[
                ("waste_gas_untreated", "废气未经处理直接排放"),
                ("hazardous_waste_ledger", "危险废物台账不全"),
            ],
            FoodSafety => &[
                ("health_certificate", "从业人员健康证缺失"),
                ("sample_retention", "食品留样不规范"),
            ],
            SpecialEquipment => &[
                ("boiler_overdue", "锅炉、压力容器未按期检验"),
                ("operator_certificate", "特种设备作业人员无证上岗"),
            ],
            ProductQuality => &[("labeling", "产品标识不规范")],
            MedicalDevices => &[("storage_records", "医疗器械储存记录不全")],
            Labour => &[
                ("contracts_missing", "未依法签订劳动合同"),
                ("wage_arrears", "拖欠工资"),
            ],
            OccupationalHealth => &[
                ("noise_monitoring", "噪声、粉尘危害未定期检测"),
                ("health_exams", "职业健康体检未落实"),
            ],
            ConstructionSafety => &[("scaffold", "脚手架搭设不规范")],
            GasSafety => &[("gas_alarm", "燃气报警装置缺失")],
            Statistics => &[("late_report", "统计报表逾期未报")],
            RoadTransport => &[("vehicle_checks", "车辆安全例检记录缺失")],
            WaterAbstraction => &[("meter_missing", "取水计量设施未安装")],
            AquaticProducts => &[("drug_residue", "水产品药物残留记录不全")],
            SchoolHygiene => &[("morning_checks", "晨午检记录不全")],
            CampusSecurity => &[("gate_guard", "护校岗未落实")],
            _ => &[],
        }
    }
}

/// Pairs of subjects one visit may not hold, with the reason: a joint team
/// does not carry a food inspection through a chemical store.
pub const INCOMPATIBLE: &[(Subject, Subject, &str)] = &[
    (
        Subject::FoodSafety,
        Subject::HazardousChemicals,
        "食品安全与危险化学品检查不宜同场进行",
    ),
    (
        Subject::AquaticProducts,
        Subject::HazardousChemicals,
        "水产品与危险化学品检查不宜同场进行",
    ),
];

/// Whether two subjects may share a visit.
pub fn compatible(a: Subject, b: Subject) -> bool {
    !INCOMPATIBLE
        .iter()
        .any(|&(x, y, _)| (x == a && y == b) || (x == b && y == a))
}

/// Kinds of department that enter schools (the Education bureau, which
/// runs the schools, is not one of them): 14 per district, 98 in the city.
pub const SCHOOL_DEPARTMENTS: &[DeptKind] = &[
    DeptKind::Police,
    DeptKind::TrafficPolice,
    DeptKind::Fire,
    DeptKind::Market,
    DeptKind::Health,
    DeptKind::Justice,
    DeptKind::Emergency,
    DeptKind::AntiDrug,
    DeptKind::Water,
    DeptKind::Science,
    DeptKind::Women,
    DeptKind::Youth,
    DeptKind::Ecology,
    DeptKind::Cyberspace,
];

/// One department: a kind in a district (荔城区市场监督管理局).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Department {
    pub district: AreaId,
    pub kind: DeptKind,
}

impl Department {
    /// The stable code, `350304.market`.
    pub fn code(&self) -> String {
        format!("{}.{}", self.district, self.kind.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for s in Subject::ALL {
            assert_eq!(s.code().parse::<Subject>().unwrap(), *s);
            assert!(seen.insert(s.code()));
            assert!(!s.zh().is_empty());
            // An inspection subject has a finding to push; publicity none.
            assert_eq!(s.findings().is_empty(), s.is_publicity(), "{s}");
        }
        for d in DeptKind::ALL {
            assert_eq!(d.code().parse::<DeptKind>().unwrap(), *d);
        }
        let e = "nope".parse::<Subject>().unwrap_err().to_string();
        assert!(e.contains("work_safety"), "{e}");
        assert_eq!(SCHOOL_DEPARTMENTS.len() * 7, 98);
        // Every school-facing department has a subject to bring to schools.
        for d in SCHOOL_DEPARTMENTS {
            assert!(Subject::ALL.iter().any(|s| s.department() == *d
                && (s.is_publicity() || Subject::SCHOOL_INSPECTIONS.contains(s))));
        }
        assert!(!compatible(
            Subject::HazardousChemicals,
            Subject::FoodSafety
        ));
        assert!(compatible(Subject::FireSafety, Subject::FoodSafety));
        let j = serde_json::to_string(&Subject::FireSafety).unwrap();
        assert_eq!(j, "\"fire_safety\"");
    }
}
