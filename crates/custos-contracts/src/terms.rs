//! The terms of sale as the engines read them: every number comes from the loaded
//! policy ([`custos_policy::load`]), resolved here once, with a typed error when the
//! policy lacks a section an engine needs.

use custos_policy::Policy;
use custos_policy::model::{
    ConsumerLaw, Contract, Jurisdiction, Orders, Plan, Returns, Withdrawal,
};
use custos_policy::period::{Period, Span};
use jiff::tz::TimeZone;

use crate::calendar::{Calendar, CalendarError, Local};
use crate::money::{Currency, Money, MoneyError};

/// A policy section or value an engine needs is absent or unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("the policy has no `{0}`")]
    Missing(String),
    #[error("`{0}` is not a valid period (load the policy with custos_policy::load)")]
    InvalidPeriod(String),
    #[error("no jurisdiction `{0}` in the policy")]
    UnknownJurisdiction(String),
    #[error("no plan `{0}` in the policy")]
    UnknownPlan(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// A customer as the contract engines need them: where they live (law, calendar)
/// and their time zone. Personal data stays in the vault; this holds none.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// Jurisdiction key of the policy (`BE`, `DE`, `CH`, `UK`).
    pub jurisdiction: String,
    /// State, canton or nation (`BY`, `ZH`, `SCT`), when known.
    pub subdivision: Option<String>,
    pub tz: TimeZone,
    /// A consumer (the Addendum's statutory rights apply) rather than a business.
    pub consumer: bool,
}

impl Customer {
    pub fn new(jurisdiction: &str, subdivision: Option<&str>, tz: TimeZone) -> Self {
        Customer {
            jurisdiction: jurisdiction.to_owned(),
            subdivision: subdivision.map(str::to_owned),
            tz,
            consumer: true,
        }
    }
}

/// The contract part of a valid policy.
#[derive(Debug, Clone)]
pub struct Terms {
    contract: Contract,
    jurisdictions: indexmap::IndexMap<String, Jurisdiction>,
    version: String,
}

pub(crate) fn span(p: &Period, path: &str) -> Result<Span, TermsError> {
    p.span()
        .ok_or_else(|| TermsError::InvalidPeriod(path.to_owned()))
}

pub(crate) fn opt_span(p: Option<&Period>, path: &str) -> Result<Option<Span>, TermsError> {
    p.map(|p| span(p, path)).transpose()
}

impl Terms {
    /// The terms of a policy that passed `custos_policy::load`.
    pub fn new(policy: &Policy) -> Result<Terms, TermsError> {
        let contract = policy
            .contract
            .clone()
            .ok_or_else(|| TermsError::Missing("contract".to_owned()))?;
        Ok(Terms {
            contract,
            jurisdictions: policy.jurisdiction.clone(),
            version: policy.policy.version.clone(),
        })
    }

    /// The policy version these terms come from (T-17: disputes use it).
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    pub fn orders(&self) -> Result<&Orders, TermsError> {
        self.contract
            .orders
            .as_ref()
            .ok_or_else(|| TermsError::Missing("contract.orders".to_owned()))
    }

    pub fn returns(&self) -> Result<&Returns, TermsError> {
        self.contract
            .returns
            .as_ref()
            .ok_or_else(|| TermsError::Missing("contract.returns".to_owned()))
    }

    pub fn withdrawal(&self) -> Result<&Withdrawal, TermsError> {
        self.contract
            .withdrawal
            .as_ref()
            .ok_or_else(|| TermsError::Missing("contract.withdrawal".to_owned()))
    }

    pub fn plan(&self, key: &str) -> Result<&Plan, TermsError> {
        self.contract
            .plan
            .get(key)
            .ok_or_else(|| TermsError::UnknownPlan(key.to_owned()))
    }

    pub fn jurisdiction(&self, code: &str) -> Result<&Jurisdiction, TermsError> {
        self.jurisdictions
            .get(code)
            .ok_or_else(|| TermsError::UnknownJurisdiction(code.to_owned()))
    }

    /// The consumer law of a jurisdiction (empty rules when the policy states none).
    pub fn consumer(&self, code: &str) -> Result<ConsumerLaw, TermsError> {
        Ok(self
            .jurisdiction(code)?
            .consumer
            .clone()
            .unwrap_or_default())
    }

    /// Time zone and holiday calendar of a customer.
    pub fn local(&self, customer: &Customer) -> Result<Local, TermsError> {
        let j = self.jurisdiction(&customer.jurisdiction)?;
        let code = j.holidays.as_deref().unwrap_or("none");
        let calendar = Calendar::parse(code, customer.subdivision.as_deref())?;
        Ok(Local::new(customer.tz.clone(), calendar))
    }

    /// Statutory withdrawal period: the jurisdiction's, else the contract's.
    pub fn withdrawal_period(&self, code: &str) -> Result<Span, TermsError> {
        let c = self.consumer(code)?;
        match &c.withdrawal {
            Some(p) => span(p, &format!("jurisdiction.{code}.consumer.withdrawal")),
            None => span(&self.withdrawal()?.period, "contract.withdrawal.period"),
        }
    }

    /// Notice owed before a price, feature or terms change reaches a customer: the
    /// longest of the jurisdiction's, the plan's (when one is named) and the contract's
    /// terms notice, so a customer always gets the most notice any rule gives them.
    pub fn change_notice(&self, code: &str, plan: Option<&str>) -> Result<Span, TermsError> {
        let c = self.consumer(code)?;
        let mut spans = Vec::new();
        if let Some(s) = opt_span(c.change_notice.as_ref(), "consumer.change_notice")? {
            spans.push(s);
        }
        if let Some(key) = plan
            && let Some(s) = opt_span(self.plan(key)?.change_notice.as_ref(), "plan.change_notice")?
        {
            spans.push(s);
        }
        if let Some(s) = opt_span(
            self.contract.terms_change_notice.as_ref(),
            "contract.terms_change_notice",
        )? {
            spans.push(s);
        }
        spans
            .into_iter()
            .max_by_key(Span::approx_hours)
            .ok_or_else(|| TermsError::Missing("change_notice".to_owned()))
    }

    /// The most a consumer pays to send goods back after a withdrawal, in `currency`.
    pub fn max_return_cost(&self, currency: Currency) -> Result<Option<Money>, TermsError> {
        for raw in &self.withdrawal()?.max_return_cost {
            let m: Money = raw.parse()?;
            if m.currency() == currency {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// Currencies the contract sells in.
    pub fn currencies(&self) -> Result<Vec<Currency>, TermsError> {
        self.contract
            .currencies
            .iter()
            .map(|c| c.parse::<Currency>().map_err(TermsError::from))
            .collect()
    }
}
