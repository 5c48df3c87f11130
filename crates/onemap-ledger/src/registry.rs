//! The field registry: every ledger's fields with a stable key, Chinese and
//! English labels, a type and a sensitivity. The stored Arrow columns carry
//! the same keys; a few fields are derived at read time (the names of a
//! row's district, town, village, grid and unit, and a person's age).

use onemap_core::Level;
use serde::Serialize;

/// A standard ledger (台账).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ledger {
    People,
    Houses,
    Cadres,
    Projects,
    Enterprises,
    Schools,
    Heritage,
    Homesteads,
    /// The reported events as the live city holds them (never stored as a
    /// ledger file: made from the current snapshot when asked).
    Events,
}

impl Ledger {
    pub const ALL: [Ledger; 9] = [
        Ledger::People,
        Ledger::Houses,
        Ledger::Cadres,
        Ledger::Projects,
        Ledger::Enterprises,
        Ledger::Schools,
        Ledger::Heritage,
        Ledger::Homesteads,
        Ledger::Events,
    ];

    /// The ledgers kept as files (a city directory's `ledgers/` folder) and,
    /// under PostGIS, as tables.
    pub const STORED: [Ledger; 8] = [
        Ledger::People,
        Ledger::Houses,
        Ledger::Cadres,
        Ledger::Projects,
        Ledger::Enterprises,
        Ledger::Schools,
        Ledger::Heritage,
        Ledger::Homesteads,
    ];

    /// The ledgers generated from the seed (the rest are the city's layers
    /// of places, each row placed in its unit).
    pub const GENERATED: [Ledger; 4] = [
        Ledger::People,
        Ledger::Houses,
        Ledger::Cadres,
        Ledger::Projects,
    ];

    /// Whether the rows are a layer of the city's places.
    pub fn is_place(self) -> bool {
        !Ledger::GENERATED.contains(&self) && !self.is_live()
    }

    /// Whether the rows come from the live city (the events) rather than
    /// from a ledger file or table.
    pub fn is_live(self) -> bool {
        self == Ledger::Events
    }

    pub fn key(self) -> &'static str {
        match self {
            Ledger::People => "people",
            Ledger::Houses => "houses",
            Ledger::Cadres => "cadres",
            Ledger::Projects => "projects",
            Ledger::Enterprises => "enterprises",
            Ledger::Schools => "schools",
            Ledger::Heritage => "heritage",
            Ledger::Homesteads => "homesteads",
            Ledger::Events => "events",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Ledger::People => "人员台账",
            Ledger::Houses => "房屋台账",
            Ledger::Cadres => "人才干部台账",
            Ledger::Projects => "项目台账",
            Ledger::Enterprises => "企业台账",
            Ledger::Schools => "学校台账",
            Ledger::Heritage => "文物保护点台账",
            Ledger::Homesteads => "闲置宅基地台账",
            Ledger::Events => "事件台账",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Ledger::People => "People",
            Ledger::Houses => "Houses",
            Ledger::Cadres => "Cadres",
            Ledger::Projects => "Projects",
            Ledger::Enterprises => "Enterprises",
            Ledger::Schools => "Schools",
            Ledger::Heritage => "Heritage sites",
            Ledger::Homesteads => "Idle homesteads",
            Ledger::Events => "Events",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh(),
            Lang::En => self.en(),
        }
    }

    /// The ledger's file in a city directory's `ledgers/` folder.
    pub fn file_name(self) -> String {
        format!("{}.arrow", self.key())
    }

    /// The ledger's fields, stored and derived, in their default order.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Ledger::People => PEOPLE,
            Ledger::Houses => HOUSES,
            Ledger::Cadres => CADRES,
            Ledger::Projects => PROJECTS,
            Ledger::Enterprises => ENTERPRISES,
            Ledger::Schools => SCHOOLS,
            Ledger::Heritage => HERITAGE,
            Ledger::Homesteads => HOMESTEADS,
            Ledger::Events => EVENTS,
        }
    }

    /// The field with this key.
    pub fn field(self, key: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| f.key == key)
    }

    /// The fields a table shows when none are ticked.
    pub fn default_fields(self) -> &'static [&'static str] {
        match self {
            Ledger::People => &["name", "sex", "age", "town", "village", "tags", "updated"],
            Ledger::Houses => &[
                "address",
                "structure",
                "floors",
                "usage",
                "safety",
                "residents",
            ],
            Ledger::Cadres => &["name", "post", "village", "grid", "unit", "phone"],
            Ledger::Projects => &["name", "village", "kind", "status", "investment", "due"],
            Ledger::Enterprises => &["name", "industry", "employees", "large", "town", "village"],
            Ledger::Schools => &["name", "kind", "students", "town", "village"],
            Ledger::Heritage => &["name", "level", "watch", "town", "village"],
            Ledger::Homesteads => &["homestead_id", "area_m2", "status", "town", "village"],
            Ledger::Events => &[
                "event_id", "category", "status", "reported", "town", "village", "overdue",
            ],
        }
    }

    /// Whether rows have a position (a GeoPackage can be written).
    pub fn has_position(self) -> bool {
        matches!(self, Ledger::Houses | Ledger::Events) || self.is_place()
    }
}

impl std::str::FromStr for Ledger {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        Ledger::ALL
            .into_iter()
            .find(|l| l.key().eq_ignore_ascii_case(t) || l.zh() == t)
            .ok_or_else(|| {
                format!(
                    "unknown ledger {t:?}: expected one of {}",
                    Ledger::ALL.map(|l| l.key()).join(", ")
                )
            })
    }
}

/// Who may read a field in the clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    /// Anyone signed in.
    Public,
    /// Staff: anyone signed in (never shown on the public map).
    Internal,
    /// Personal data: in the clear only for roles that care for the person
    /// (unit and grid leaders, town offices) inside their own area; masked
    /// for everyone else, and every download of it is logged.
    Personal,
}

/// How a personal field is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mask {
    /// The first 6 and the last 4 characters: `350302********1234`.
    IdNumber,
    /// The first 3 and the last 4 digits: `138****5678`.
    Phone,
    /// The surname and a star per other character: `林**`.
    Name,
    /// `***`.
    Whole,
}

/// One choice of a coded field: stored as `code`, shown as a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub code: u8,
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "choices")]
pub enum Kind {
    Text,
    /// An integer (ids, counts, years).
    Int,
    Float,
    /// A calendar day.
    Date,
    /// A moment (shown in China time).
    Time,
    Bool,
    /// One of a fixed list (0 = none).
    Choice(&'static [Choice]),
    /// A set of tags (a bit per choice, bit `code - 1`).
    Tags(&'static [Choice]),
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Date => "date",
            Kind::Time => "time",
            Kind::Bool => "bool",
            Kind::Choice(_) => "choice",
            Kind::Tags(_) => "tags",
        }
    }

    pub fn choices(&self) -> &'static [Choice] {
        match self {
            Kind::Choice(c) | Kind::Tags(c) => c,
            _ => &[],
        }
    }
}

/// Where a field's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "level")]
pub enum Source {
    /// The stored column of the same key.
    Column,
    /// The name of the row's area (its `area_id`) or its ancestor at a level.
    AreaName(Level),
    /// Whole years from `birth` to the day asked.
    Age,
}

/// A field of a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Field {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub kind: Kind,
    pub sensitivity: Sensitivity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<Mask>,
    pub source: Source,
}

impl Field {
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

/// The language of labels and coded values in an answer or a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "cn" => Ok(Lang::Zh),
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?}: expected zh or en")),
        }
    }
}

impl Choice {
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

macro_rules! choices {
    ($($code:literal $key:literal $zh:literal $en:literal),* $(,)?) => {
        &[$(Choice { code: $code, key: $key, zh: $zh, en: $en }),*]
    };
}

pub const SEX: &[Choice] = choices![1 "male" "男" "male", 2 "female" "女" "female"];

pub const RELATION: &[Choice] = choices![
    1 "head" "户主" "head",
    2 "spouse" "配偶" "spouse",
    3 "child" "子女" "child",
    4 "parent" "父母" "parent",
    5 "grandchild" "孙子女" "grandchild",
];

/// The people's tags. Codes 1–5 are the care group (关爱人群).
pub const TAGS: &[Choice] = choices![
    1 "elderly_alone" "独居老人" "elderly living alone",
    2 "left_behind_child" "留守儿童" "left-behind child",
    3 "disability" "残疾人" "disability",
    4 "low_income" "低保户" "low income",
    5 "serious_illness" "重病患者" "serious illness",
    6 "veteran" "退役军人" "veteran",
];

/// The tag bits of the care group (关爱人群): any of them makes a person
/// part of it.
pub const CARE_MASK: u16 = 0b1_1111;

pub const ILLNESS: &[Choice] = choices![
    1 "cancer" "恶性肿瘤" "cancer",
    2 "uremia" "尿毒症" "uremia",
    3 "severe_mental" "重性精神障碍" "severe mental disorder",
    4 "leukemia" "白血病" "leukemia",
    5 "stroke" "脑卒中" "stroke",
    6 "heart_failure" "慢性心力衰竭" "chronic heart failure",
];

pub const STRUCTURE: &[Choice] = choices![
    1 "brick_concrete" "砖混" "brick and concrete",
    2 "frame" "框架" "reinforced-concrete frame",
    3 "earth_wood" "土木" "earth and timber",
    4 "steel" "钢结构" "steel",
    5 "stone" "石结构" "stone",
];

pub const USAGE: &[Choice] = choices![
    1 "own" "自住" "lived in by the owner",
    2 "rented" "出租" "rented out",
    3 "business" "经营" "business",
    4 "vacant" "空置" "vacant",
];

/// House safety appraisal grades (房屋安全鉴定 A–D).
pub const SAFETY: &[Choice] = choices![
    1 "a" "A级（安全）" "A (safe)",
    2 "b" "B级（基本安全）" "B (basically safe)",
    3 "c" "C级（局部危险）" "C (partly dangerous)",
    4 "d" "D级（整栋危险）" "D (dangerous)",
];

pub const POST: &[Choice] = choices![
    1 "party_secretary" "村（社区）党组织书记" "village party secretary",
    2 "director" "村（居）委会主任" "village committee director",
    3 "grid_leader" "网格长" "grid leader",
    4 "unit_leader" "单元长" "unit leader",
];

pub const EDUCATION: &[Choice] = choices![
    1 "junior" "初中" "junior secondary",
    2 "senior" "高中（中专）" "senior secondary",
    3 "college" "大专" "college",
    4 "bachelor" "本科" "bachelor",
    5 "master" "研究生" "postgraduate",
];

pub const PROJECT_KIND: &[Choice] = choices![
    1 "infrastructure" "基础设施" "infrastructure",
    2 "industry" "产业发展" "industry",
    3 "livelihood" "民生保障" "livelihood",
    4 "ecology" "生态环境" "ecology",
    5 "culture" "文化旅游" "culture and tourism",
];

pub const PROJECT_STATUS: &[Choice] = choices![
    1 "planned" "谋划" "planned",
    2 "building" "在建" "under way",
    3 "done" "完工" "done",
];

const fn col(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    kind: Kind,
    sensitivity: Sensitivity,
) -> Field {
    Field {
        key,
        zh,
        en,
        kind,
        sensitivity,
        mask: None,
        source: Source::Column,
    }
}

const fn personal(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    kind: Kind,
    mask: Mask,
) -> Field {
    Field {
        key,
        zh,
        en,
        kind,
        sensitivity: Sensitivity::Personal,
        mask: Some(mask),
        source: Source::Column,
    }
}

const fn area(key: &'static str, zh: &'static str, en: &'static str, level: Level) -> Field {
    Field {
        key,
        zh,
        en,
        kind: Kind::Text,
        sensitivity: Sensitivity::Public,
        mask: None,
        source: Source::AreaName(level),
    }
}

use Sensitivity::{Internal, Public};

const AREA_ID: Field = col("area_id", "区域代码", "area code", Kind::Int, Public);
const DISTRICT: Field = area("district", "区县", "district", Level::District);
const TOWN: Field = area("town", "乡镇（街道）", "town", Level::Town);
const VILLAGE: Field = area("village", "村（社区）", "village", Level::Village);
const GRID: Field = area("grid", "网格", "grid", Level::Grid);
const UNIT: Field = area("unit", "单元", "unit", Level::Unit);
const UPDATED: Field = col("updated", "最后更新", "last update", Kind::Time, Internal);

static PEOPLE: &[Field] = &[
    col("person_id", "人员编号", "person no.", Kind::Int, Internal),
    personal("name", "姓名", "name", Kind::Text, Mask::Name),
    personal(
        "id_number",
        "身份证号（合成）",
        "ID number (synthetic)",
        Kind::Text,
        Mask::IdNumber,
    ),
    col("sex", "性别", "sex", Kind::Choice(SEX), Public),
    col("birth", "出生日期", "birth date", Kind::Date, Internal),
    Field {
        key: "age",
        zh: "年龄",
        en: "age",
        kind: Kind::Int,
        sensitivity: Public,
        mask: None,
        source: Source::Age,
    },
    personal("phone", "联系电话", "phone", Kind::Text, Mask::Phone),
    col("household", "户号", "household no.", Kind::Int, Internal),
    col(
        "relation",
        "与户主关系",
        "relation to head",
        Kind::Choice(RELATION),
        Internal,
    ),
    col("house", "房屋编号", "house no.", Kind::Int, Internal),
    AREA_ID,
    DISTRICT,
    TOWN,
    VILLAGE,
    GRID,
    UNIT,
    col("tags", "人员标签", "tags", Kind::Tags(TAGS), Internal),
    personal(
        "illness",
        "病种",
        "type of illness",
        Kind::Choice(ILLNESS),
        Mask::Whole,
    ),
    UPDATED,
];

static HOUSES: &[Field] = &[
    col("house_id", "房屋编号", "house no.", Kind::Int, Internal),
    col("address", "地址", "address", Kind::Text, Internal),
    col("lon", "经度", "longitude", Kind::Float, Internal),
    col("lat", "纬度", "latitude", Kind::Float, Internal),
    AREA_ID,
    DISTRICT,
    TOWN,
    VILLAGE,
    GRID,
    UNIT,
    col(
        "structure",
        "结构",
        "structure",
        Kind::Choice(STRUCTURE),
        Public,
    ),
    col("floors", "层数", "floors", Kind::Int, Public),
    col(
        "floor_area",
        "建筑面积（㎡）",
        "floor area (m²)",
        Kind::Float,
        Public,
    ),
    col("built", "建成年份", "year built", Kind::Int, Public),
    col("usage", "用途", "use", Kind::Choice(USAGE), Internal),
    col("households", "户数", "households", Kind::Int, Internal),
    col("residents", "居住人数", "residents", Kind::Int, Internal),
    col(
        "safety",
        "安全等级",
        "safety grade",
        Kind::Choice(SAFETY),
        Internal,
    ),
    personal("owner", "产权人", "owner", Kind::Text, Mask::Name),
    UPDATED,
];

static CADRES: &[Field] = &[
    col("cadre_id", "干部编号", "cadre no.", Kind::Int, Internal),
    col("name", "姓名", "name", Kind::Text, Public),
    col("sex", "性别", "sex", Kind::Choice(SEX), Public),
    col("birth", "出生日期", "birth date", Kind::Date, Internal),
    personal("phone", "联系电话", "phone", Kind::Text, Mask::Phone),
    col("post", "职务", "post", Kind::Choice(POST), Public),
    AREA_ID,
    DISTRICT,
    TOWN,
    VILLAGE,
    GRID,
    UNIT,
    col("party", "中共党员", "party member", Kind::Bool, Public),
    col(
        "education",
        "学历",
        "education",
        Kind::Choice(EDUCATION),
        Internal,
    ),
    UPDATED,
];

static PROJECTS: &[Field] = &[
    col("project_id", "项目编号", "project no.", Kind::Int, Public),
    col("name", "项目名称", "project", Kind::Text, Public),
    AREA_ID,
    DISTRICT,
    TOWN,
    VILLAGE,
    col(
        "kind",
        "项目类别",
        "kind",
        Kind::Choice(PROJECT_KIND),
        Public,
    ),
    col(
        "investment",
        "总投资（万元）",
        "investment (10k yuan)",
        Kind::Float,
        Public,
    ),
    col(
        "status",
        "进展状态",
        "status",
        Kind::Choice(PROJECT_STATUS),
        Public,
    ),
    col("start", "开工日期", "start", Kind::Date, Public),
    col("due", "计划完工", "due", Kind::Date, Public),
    col(
        "owner_dept",
        "责任单位",
        "responsible body",
        Kind::Text,
        Public,
    ),
    col(
        "progress",
        "完成进度（%）",
        "progress (%)",
        Kind::Int,
        Public,
    ),
    UPDATED,
];

pub const SCHOOL_KIND: &[Choice] = choices![
    1 "kindergarten" "幼儿园" "kindergarten",
    2 "primary" "小学" "primary school",
    3 "middle" "初中" "middle school",
    4 "high" "高中" "high school",
];

pub const PROTECTION_LEVEL: &[Choice] = choices![
    1 "national" "全国重点文物保护单位" "national",
    2 "provincial" "省级文物保护单位" "provincial",
    3 "city" "市级文物保护单位" "city",
    4 "county" "县级文物保护单位" "county",
];

pub const WATCH: &[Choice] = choices![
    1 "fire" "防火" "fire",
    2 "flood" "防汛" "flood",
    3 "fire_and_flood" "防火防汛" "fire and flood",
];

pub const HOMESTEAD_STATUS: &[Choice] = choices![
    1 "idle" "闲置" "idle",
    2 "demolishing" "拆除中" "being demolished",
    3 "reclaimed" "已复垦" "reclaimed",
];

/// The event categories (the core's codes plus one: 0 is "none" here).
pub const EVENT_CATEGORY: &[Choice] = choices![
    1 "drainage" "排水" "drainage",
    2 "sanitation" "环境卫生" "sanitation",
    3 "dispute" "矛盾纠纷" "dispute",
    4 "road" "道路交通" "road",
    5 "safety_hazard" "安全隐患" "safety hazard",
    6 "illegal_building" "违法建设" "illegal building",
    7 "public_order" "社会治安" "public order",
    8 "other" "其他" "other",
];

/// The steps of the event loop (the core's codes plus one).
pub const EVENT_STATUS: &[Choice] = choices![
    1 "reported" "已上报" "reported",
    2 "discussing" "会商研判" "discussing",
    3 "routed" "已流转" "routed",
    4 "handled" "已处置" "handled",
    5 "fed_back" "已回传" "fed back",
    6 "closed" "已办结" "closed",
];

const LON: Field = col("lon", "经度", "longitude", Kind::Float, Public);
const LAT: Field = col("lat", "纬度", "latitude", Kind::Float, Public);

static ENTERPRISES: &[Field] = &[
    col(
        "enterprise_id",
        "企业编号",
        "enterprise no.",
        Kind::Int,
        Public,
    ),
    col("name", "企业名称", "name", Kind::Text, Public),
    col("industry", "行业", "industry", Kind::Text, Public),
    col("employees", "从业人数", "employees", Kind::Int, Public),
    col("large", "规上企业", "large enterprise", Kind::Bool, Public),
    LON,
    LAT,
    AREA_ID,
    DISTRICT,
    TOWN,
    VILLAGE,
    GRID,
    UNIT,
];

static SCHOOLS: &[Field] = &[
    col("school_id", "学校编号", "school no.", Kind::Int, Public),
    col("name", "学校名称", "name", Kind::Text, Public),
    col("kind", "学段", "kind", Kind::Choice(SCHOOL_KIND), Public),
    col("students", "在校学生", "students", Kind::Int, Public),
    LON,
    LAT,
    AREA_ID,
    DISTRICT,
    TOWN,
    VILLAGE,
    GRID,
    UNIT,
];

static HERITAGE: &[Field] = &[
    col("heritage_id", "文物点编号", "site no.", Kind::Int, Public),
    col("name", "名称", "name", Kind::Text, Public),
    col(
        "level",
        "保护级别",
        "protection level",
        Kind::Choice(PROTECTION_LEVEL),
        Public,
    ),
    col("watch", "防护重点", "watch", Kind::Choice(WATCH), Public),
    LON,
    LAT,
    AREA_ID,
    DISTRICT,
    TOWN,
    VILLAGE,
    GRID,
    UNIT,
];

static HOMESTEADS: &[Field] = &[
    col("homestead_id", "宅基地编号", "plot no.", Kind::Int, Public),
    col("area_m2", "面积（㎡）", "area (m²)", Kind::Float, Public),
    col(
        "status",
        "处置状态",
        "status",
        Kind::Choice(HOMESTEAD_STATUS),
        Public,
    ),
    LON,
    LAT,
    AREA_ID,
    DISTRICT,
    TOWN,
    VILLAGE,
    GRID,
    UNIT,
];

static EVENTS: &[Field] = &[
    col("event_id", "事件编号", "event no.", Kind::Int, Public),
    col(
        "category",
        "事件类别",
        "category",
        Kind::Choice(EVENT_CATEGORY),
        Public,
    ),
    col(
        "status",
        "办理状态",
        "status",
        Kind::Choice(EVENT_STATUS),
        Public,
    ),
    col("reported", "上报时间", "reported", Kind::Time, Public),
    col(
        "updated",
        "状态更新时间",
        "status since",
        Kind::Time,
        Public,
    ),
    col("closed", "办结时间", "closed", Kind::Time, Public),
    col("due", "本环节时限", "step due", Kind::Time, Public),
    col("overdue", "是否超期", "overdue", Kind::Bool, Public),
    LON,
    LAT,
    AREA_ID,
    DISTRICT,
    TOWN,
    VILLAGE,
    GRID,
    UNIT,
];

/// Whether a stored field may be empty: the live events' closing time (an
/// open event has none) and a step's due time (closing has no limit). The
/// ledger files have no empty cells.
pub fn nullable(ledger: Ledger, f: &Field) -> bool {
    ledger.is_live() && matches!(f.key, "closed" | "due")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_defaults_exist() {
        for l in Ledger::ALL {
            let mut keys: Vec<_> = l.fields().iter().map(|f| f.key).collect();
            keys.sort_unstable();
            let n = keys.len();
            keys.dedup();
            assert_eq!(keys.len(), n, "{l:?} has a duplicate key");
            for d in l.default_fields() {
                assert!(l.field(d).is_some(), "{l:?} default {d} is not a field");
            }
            for f in l.fields() {
                assert_eq!(
                    f.mask.is_some(),
                    f.sensitivity == Sensitivity::Personal,
                    "{}",
                    f.key
                );
                let mut codes: Vec<_> = f.kind.choices().iter().map(|c| c.code).collect();
                codes.dedup();
                assert!(codes.iter().all(|c| *c > 0));
                assert_eq!(codes.len(), f.kind.choices().len());
            }
        }
        assert_eq!("人员台账".parse::<Ledger>(), Ok(Ledger::People));
        assert!("nope".parse::<Ledger>().unwrap_err().contains("people"));
    }
}
