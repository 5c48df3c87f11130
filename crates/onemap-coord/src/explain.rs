//! The suggestions of one target's run: each plan's action, visit and
//! reason, once the visits are settled.

use crate::coordinate::{How, TargetRun};
use crate::schedule::Slot;
use crate::suggestion::{self as text, Action, Reason, ReasonCode, Suggestion};
use crate::{Plan, Visit};
use std::collections::HashMap;

impl<'a> TargetRun<'a, '_> {
    /// The suggestions and the visits that are new or changed.
    pub(crate) fn finish(self, plans: &[&'a Plan]) -> (Vec<Suggestion>, Vec<Visit>) {
        let by_id: HashMap<u64, &Plan> = plans.iter().map(|p| (p.id, *p)).collect();
        let notes = &self.notes;
        let resolve = |mut i: usize| {
            while let Some(j) = self.slots[i].merged_into {
                i = j;
            }
            i
        };
        let mut out = Vec::with_capacity(plans.len());
        for p in plans {
            let Some(how) = self.how.get(&p.id) else {
                continue;
            };
            let (code, visit, body) = match how {
                How::Cancel(records) => {
                    out.push(Suggestion {
                        plan: p.id,
                        action: Action::Cancel,
                        visit: None,
                        date: None,
                        reason: Reason {
                            code: ReasonCode::CancelDuplicate,
                            text: text::cancel_text(p, records),
                        },
                        duplicates: records.iter().map(|r| r.id).collect(),
                        accompanied: false,
                    });
                    continue;
                }
                How::Online(i) => {
                    let v = &self.slots[*i].visit;
                    let mut t = text::online_text(p, v.date);
                    let others: Vec<String> = v
                        .plans
                        .iter()
                        .filter(|id| **id != p.id)
                        .map(|id| format!("计划#{id}"))
                        .collect();
                    if !others.is_empty() {
                        t.push_str(&format!("；与{}一并提交材料", others.join("、")));
                    }
                    (ReasonCode::OnlineLowRisk, v, t)
                }
                How::Urgent(i) => {
                    let v = &self.slots[resolve(*i)].visit;
                    (
                        ReasonCode::KeepUrgent,
                        v,
                        format!(
                            "紧急检查（投诉举报或事故），按原计划{}进行，不受合并和暂缓限制",
                            v.date.zh()
                        ),
                    )
                }
                How::Anchor(i, code) => {
                    let v = &self.slots[resolve(*i)].visit;
                    let partners: Vec<&Plan> = v
                        .plans
                        .iter()
                        .filter_map(|id| by_id.get(id).copied())
                        .collect();
                    (*code, v, text::merge_text(*code, p, v, &partners))
                }
                How::Group(i, size) => {
                    let f = resolve(*i);
                    let slot = &self.slots[f];
                    let v = &slot.visit;
                    let moved = self.slots[*i].moved.map(|why| {
                        let date = self.slots[*i].visit.date;
                        let outside = if p.window.contains(date) {
                            ""
                        } else {
                            "（超出本计划窗口，请部门确认）"
                        };
                        format!("；因{}，检查日调整至{}{outside}", why.zh(), date.zh())
                    });
                    if v.plans.len() >= 2 {
                        let code = if f != *i || *size < 2 {
                            ReasonCode::MergeSameWeek
                        } else {
                            ReasonCode::MergeJoint
                        };
                        let partners: Vec<&Plan> = v
                            .plans
                            .iter()
                            .filter_map(|id| by_id.get(id).copied())
                            .collect();
                        let mut t = text::merge_text(code, p, v, &partners);
                        if f == *i {
                            t.push_str(moved.as_deref().unwrap_or(""));
                        }
                        (code, v, t)
                    } else if v.date == p.planned {
                        let why_onsite = notes.get(&p.id).map_or("需现场检查", String::as_str);
                        let alone = slot
                            .alone_note
                            .as_deref()
                            .unwrap_or("时间窗口内无可合并的检查");
                        (
                            ReasonCode::KeepAsPlanned,
                            v,
                            text::keep_text(p, v.date, why_onsite, alone),
                        )
                    } else {
                        self.reschedule(p, slot)
                    }
                }
            };
            let on_site = visit.on_site();
            let mut t = body;
            if let (Action::Merge, Some(r)) = (code.action(), self.postponed.get(&p.id)) {
                t.push_str(&format!("；{}，本计划顺延后合并", text::postponed_text(r)));
            }
            if on_site {
                t.push_str(text::accompany_note(p, visit.accompanied));
            }
            out.push(Suggestion {
                plan: p.id,
                action: code.action(),
                visit: Some(visit.id),
                date: Some(visit.date),
                reason: Reason { code, text: t },
                duplicates: Vec::new(),
                accompanied: on_site && visit.accompanied,
            });
        }
        let visits = self
            .slots
            .into_iter()
            .filter(|s| s.merged_into.is_none() && (!s.booked || s.changed))
            .map(|s| s.visit)
            .collect();
        (out, visits)
    }

    /// The reason of a plan alone on another day than planned.
    fn reschedule<'v>(&self, p: &Plan, slot: &'v Slot) -> (ReasonCode, &'v Visit, String) {
        let v = &slot.visit;
        if let Some(r) = self.postponed.get(&p.id) {
            let mut t = format!(
                "{}，原定{}调整至{}",
                text::postponed_text(r),
                p.planned.zh(),
                v.date.zh()
            );
            if let Some(why) = slot.moved {
                t.push_str(&format!("（{}，再顺延）", why.zh()));
            }
            return (ReasonCode::RescheduleRequest, v, t);
        }
        let code = slot.moved.unwrap_or(ReasonCode::RescheduleWeek);
        let inside = if p.window.contains(v.date) {
            "在原计划窗口内"
        } else {
            "超出原计划窗口，请部门确认"
        };
        let (from, to) = (p.planned.zh(), v.date.zh());
        let t = match code {
            ReasonCode::RescheduleMonth => format!(
                "{}月现场检查已达{}次，原定{from}调整至{to}（{inside}）",
                p.planned.month(),
                self.rules.month_cap(self.target),
            ),
            ReasonCode::RescheduleRequest => {
                format!("企业申请暂缓期间不安排现场检查，原定{from}调整至{to}（{inside}）")
            }
            _ => format!("原定{from}所在周已有现场检查，调整至{to}（{inside}）"),
        };
        (code, v, t)
    }
}
