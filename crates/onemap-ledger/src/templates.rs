//! The standard templates every account sees (as the city's standard form
//! templates are handed down to every level): a ledger, its fields and a
//! filter under a name. Saved templates (kept in the store) are made the
//! same way from the one table.

use crate::registry::Ledger;

/// A template that comes with onemap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Standard {
    /// A stable id, `std:…`.
    pub id: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub ledger: Ledger,
    /// The fields and filter as query text (as a saved template's).
    pub params: &'static str,
}

/// The standard templates, in the order the page lists them.
pub const STANDARD: &[Standard] = &[
    Standard {
        id: "std:care",
        zh: "关爱人群名册",
        en: "Care group roster",
        ledger: Ledger::People,
        params: "fields=name,id_number,sex,age,phone,tags,illness,town,village,unit,updated&tags=care",
    },
    Standard {
        id: "std:elderly_alone",
        zh: "独居老人名册",
        en: "Elderly living alone",
        ledger: Ledger::People,
        params: "fields=name,id_number,sex,age,phone,town,village,unit,updated&tags=elderly_alone",
    },
    Standard {
        id: "std:left_behind",
        zh: "留守儿童名册",
        en: "Left-behind children",
        ledger: Ledger::People,
        params: "fields=name,sex,age,household,relation,town,village,unit,updated&tags=left_behind_child",
    },
    Standard {
        id: "std:serious_illness",
        zh: "重病患者名册",
        en: "People with a serious illness",
        ledger: Ledger::People,
        params: "fields=name,id_number,age,phone,illness,town,village,unit,updated&tags=serious_illness",
    },
    Standard {
        id: "std:unsafe_houses",
        zh: "C/D级危房台账",
        en: "Unsafe houses (grade C and D)",
        ledger: Ledger::Houses,
        params: "fields=address,structure,floors,built,safety,residents,owner,town,village,unit,updated&safety=c|d",
    },
    Standard {
        id: "std:village_cadres",
        zh: "村（社区）两委干部名册",
        en: "Village committee leaders",
        ledger: Ledger::Cadres,
        params: "fields=name,sex,birth,phone,post,party,education,town,village&post=party_secretary|director",
    },
    Standard {
        id: "std:grid_leaders",
        zh: "网格员名册",
        en: "Grid leaders",
        ledger: Ledger::Cadres,
        params: "fields=name,sex,phone,town,village,grid&post=grid_leader",
    },
    Standard {
        id: "std:projects_building",
        zh: "在建项目台账",
        en: "Projects under construction",
        ledger: Ledger::Projects,
        params: "fields=name,kind,investment,start,due,owner_dept,progress,town,village&status=building",
    },
    Standard {
        id: "std:overdue_events",
        zh: "超期事件台账",
        en: "Overdue events",
        ledger: Ledger::Events,
        params: "fields=event_id,category,status,reported,updated,due,town,village,grid,unit&overdue=true",
    },
];

/// The standard template `id`.
pub fn standard(id: &str) -> Option<&'static Standard> {
    STANDARD.iter().find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;

    #[test]
    fn every_standard_template_is_a_query_of_its_ledger() {
        for s in STANDARD {
            let mut q = Query::new(s.ledger, 20_000);
            q.apply_params(s.params)
                .unwrap_or_else(|e| panic!("{}: {e}", s.id));
            let filters = q.describe().split('&').filter(|p| !p.is_empty()).count();
            assert!(filters >= 1, "{} filters nothing", s.id);
            assert!(q.fields.len() >= 5, "{}", s.id);
            assert!(s.id.starts_with("std:"));
            assert_eq!(standard(s.id), Some(s));
        }
        let mut ids: Vec<_> = STANDARD.iter().map(|s| s.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), STANDARD.len());
    }
}
