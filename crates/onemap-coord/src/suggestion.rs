//! What the coordinator says about each plan: an action, the visit that
//! carries the plan out, and the reason — a stable code and a sentence in
//! Chinese that names the plans, records, requests and days it rests on.

use crate::{Date, Plan, Record, Risk, Subject, Visit};
use serde::{Deserialize, Serialize};

catalog_enum!(
    /// The suggestion for one plan (合并检查、线上检查、变更检查、取消检查, or keep).
    Action, "action" {
        Keep => ("keep", "保持"),
        Merge => ("merge", "合并检查"),
        Online => ("online", "线上检查"),
        Reschedule => ("reschedule", "变更检查"),
        Cancel => ("cancel", "取消检查"),
    }
);

catalog_enum!(
    /// Which rule gave the suggestion.
    ReasonCode, "reason" {
        MergeJoint => ("merge_joint", "时间重叠、事项相容，合并为联合检查"),
        MergeBooked => ("merge_booked", "并入已排定的检查"),
        MergeUrgent => ("merge_urgent", "并入同日紧急检查"),
        MergeEvent => ("merge_event", "并入学校活动"),
        MergeSameWeek => ("merge_same_week", "与同周检查合并"),
        OnlineLowRisk => ("online_low_risk", "低风险、可凭材料核查，改为线上"),
        RescheduleRequest => ("reschedule_request", "企业申请暂缓"),
        RescheduleWeek => ("reschedule_week", "同周已有现场检查"),
        RescheduleMonth => ("reschedule_month", "当月现场检查已满"),
        CancelDuplicate => ("cancel_duplicate", "近期已查同一事项且无问题"),
        KeepUrgent => ("keep_urgent", "紧急检查"),
        KeepAsPlanned => ("keep_as_planned", "按原计划"),
    }
);

impl ReasonCode {
    /// The action a reason leads to.
    pub fn action(self) -> Action {
        use ReasonCode::*;
        match self {
            MergeJoint | MergeBooked | MergeUrgent | MergeEvent | MergeSameWeek => Action::Merge,
            OnlineLowRisk => Action::Online,
            RescheduleRequest | RescheduleWeek | RescheduleMonth => Action::Reschedule,
            CancelDuplicate => Action::Cancel,
            KeepUrgent | KeepAsPlanned => Action::Keep,
        }
    }
}

/// Why: the rule's code and the sentence people read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub text: String,
}

/// The coordinator's suggestion for one plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub plan: u64,
    pub action: Action,
    /// The visit that carries the plan out (none when cancelled).
    pub visit: Option<u64>,
    /// The visit's day.
    pub date: Option<Date>,
    pub reason: Reason,
    /// The records a cancelled plan duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<u64>,
    /// Whether the town accompanies the visit.
    pub accompanied: bool,
}

/// The town's rule for accompanying (陪同): it goes along with a visit when a
/// department asked and the plan is high-risk or urgent; for the others the
/// enterprise's file (一企一档) tells the department what it needs.
pub fn town_accompanies(plan: &Plan) -> bool {
    plan.accompanied && (plan.risk == Risk::High || plan.urgent)
}

/// `安全生产、消防安全`.
pub fn subjects_zh(subjects: impl IntoIterator<Item = Subject>) -> String {
    subjects
        .into_iter()
        .map(Subject::zh)
        .collect::<Vec<_>>()
        .join("、")
}

/// The sentence of a cancelled plan: each subject's earlier record.
pub fn cancel_text(plan: &Plan, records: &[&Record]) -> String {
    let parts: Vec<String> = records
        .iter()
        .map(|r| {
            format!(
                "{}已于{}{}检查（记录#{}，相隔{}天）未发现问题",
                r.subject.zh(),
                r.date.zh(),
                if r.online { "线上" } else { "" },
                r.id,
                plan.planned.since(r.date)
            )
        })
        .collect();
    format!(
        "{}；本计划无必查事项，属重复检查，建议取消",
        parts.join("；")
    )
}

/// `企业申请搬迁期间（3月15日至5月7日，申请#58）暂缓现场检查`.
pub fn postponed_text(r: &crate::Request) -> String {
    match &r.kind {
        crate::RequestKind::Postpone { window, reason } => format!(
            "{}申请{}期间（{}至{}，申请#{}）暂缓现场检查",
            if r.target.is_school() {
                "学校"
            } else {
                "企业"
            },
            reason.zh(),
            window.start.zh(),
            window.end.zh(),
            r.id
        ),
        _ => format!("企业申请暂缓现场检查（申请#{}）", r.id),
    }
}

/// The sentence of a plan moved online.
pub fn online_text(plan: &Plan, date: Date) -> String {
    format!(
        "风险等级低，{}可凭材料核查，建议改为线上检查（{}提交材料），不再进门",
        subjects_zh(plan.subjects.iter().map(|s| s.subject)),
        date.zh()
    )
}

/// The sentence of a plan merged into `visit`.
pub fn merge_text(code: ReasonCode, plan: &Plan, visit: &Visit, partners: &[&Plan]) -> String {
    let others: Vec<String> = partners
        .iter()
        .filter(|p| p.id != plan.id)
        .take(4)
        .map(|p| format!("{}（计划#{}）", p.department.kind.zh(), p.id))
        .collect();
    let more = partners.len().saturating_sub(others.len() + 1);
    let with = if others.is_empty() {
        let kinds: Vec<&str> = visit
            .departments
            .iter()
            .filter(|d| **d != plan.department)
            .map(|d| d.kind.zh())
            .collect();
        if kinds.is_empty() {
            "同部门其他计划".to_string()
        } else {
            kinds.join("、")
        }
    } else if more > 0 {
        format!("{}等{}个计划", others.join("、"), others.len() + more)
    } else {
        others.join("、")
    };
    let lead = visit.lead.map_or("", |d| d.kind.zh());
    let covers = subjects_zh(visit.subjects.iter().map(|s| s.subject));
    match code {
        ReasonCode::MergeBooked => format!(
            "并入已排定的{}检查（检查#{}，与{}），一次进门检查{}",
            visit.date.zh(),
            visit.id,
            with,
            covers
        ),
        ReasonCode::MergeUrgent => format!(
            "{}已有紧急检查（检查#{}），时间在本计划窗口内，同日一并检查{}",
            visit.date.zh(),
            visit.id,
            covers
        ),
        ReasonCode::MergeEvent => format!(
            "学校邀请参加{}（{}，检查#{}），本计划在活动中开展，不再单独进校",
            match visit.purpose {
                crate::Purpose::Event(e) => e.zh(),
                _ => "活动",
            },
            visit.date.zh(),
            visit.id
        ),
        ReasonCode::MergeSameWeek => format!(
            "与同周{}的检查（检查#{}，{}）合并，一次进门检查{}",
            visit.date.zh(),
            visit.id,
            with,
            covers
        ),
        _ if visit.departments.len() < 2 => format!(
            "与{}同一对象、检查时间重叠，合并为{}一次检查（检查#{}），一次进门检查{}",
            with,
            visit.date.zh(),
            visit.id,
            covers
        ),
        _ => format!(
            "与{}同一对象、检查时间重叠、事项相容，合并为{}联合检查（检查#{}，牵头：{}），一次进门检查{}",
            with,
            visit.date.zh(),
            visit.id,
            lead,
            covers
        ),
    }
}

/// Why a plan was kept as planned: why no other rule applied.
pub fn keep_text(plan: &Plan, date: Date, why_onsite: &str, why_alone: &str) -> String {
    let mandatory: Vec<Subject> = plan
        .subjects
        .iter()
        .filter(|s| s.mandatory)
        .map(|s| s.subject)
        .collect();
    let must = if mandatory.is_empty() {
        String::new()
    } else {
        format!("；含必查事项{}，不取消", subjects_zh(mandatory))
    };
    format!(
        "按原计划{}现场检查：{why_onsite}{must}；{why_alone}",
        date.zh()
    )
}

/// The note on accompanying added to a plan that asked for it.
pub fn accompany_note(plan: &Plan, accompanied: bool) -> &'static str {
    match (plan.accompanied, accompanied) {
        (true, true) if town_accompanies(plan) => "；高风险或紧急，镇街陪同",
        (true, true) => "；联合检查中有高风险事项，镇街陪同",
        (true, false) => "；非高风险，镇街不再陪同（一企一档代替陪同）",
        _ => "",
    }
}
