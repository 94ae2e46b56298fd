//! Which job's secrets: team, job and deployment.

use std::fmt;

use crate::error::{Error, Problem};
use crate::text::concat;
use crate::validate;

/// The deployment id that upstream clients send; the server ignores it.
pub const DEFAULT_DEPLOYMENT_ID: &str = "TODO";

/// A job, identified by its team and name, plus the deployment id the API path carries.
///
/// Secrets belong to the team and job; the deployment id is only part of the URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JobRef {
    team: String,
    job: String,
    deployment_id: String,
}

impl JobRef {
    /// A checked reference to `team`'s job `job`, with deployment id `TODO`.
    ///
    /// Both names are checked together, so one error lists both when both are wrong.
    pub fn new(team: impl Into<String>, job: impl Into<String>) -> Result<Self, Error> {
        let (team, job) = (team.into(), job.into());
        let problems: Vec<Problem> = [validate::team(&team), validate::job(&job)]
            .into_iter()
            .filter_map(Result::err)
            .flat_map(|e| e.problems().to_vec())
            .collect();
        if !problems.is_empty() {
            return Err(Error::invalid("The job reference", problems));
        }
        Ok(JobRef {
            team,
            job,
            deployment_id: DEFAULT_DEPLOYMENT_ID.to_string(),
        })
    }

    /// The same job with another deployment id.
    pub fn with_deployment(mut self, id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        validate::deployment(&id)?;
        self.deployment_id = id;
        Ok(self)
    }

    /// The team that owns the job.
    pub fn team(&self) -> &str {
        &self.team
    }

    /// The job's name.
    pub fn job(&self) -> &str {
        &self.job
    }

    /// `team/job`, as `Display` shows it.
    pub(crate) fn path(&self) -> String {
        concat(&[&*self.team, "/", &self.job])
    }

    /// The deployment id sent in the path.
    pub fn deployment_id(&self) -> &str {
        &self.deployment_id
    }
}

impl fmt::Display for JobRef {
    /// `team/job`, as in upstream's Vault records.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.team)?;
        f.write_str("/")?;
        f.write_str(&self.job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_job_ref_defaults_deployment_to_todo() {
        let job = JobRef::new("team", "job").unwrap();
        assert_eq!(job.deployment_id(), "TODO");
        assert_eq!(job.to_string(), "team/job");
    }

    #[test]
    fn invalid_team_and_job_are_reported_together() {
        let e = JobRef::new("", "a/b").unwrap_err();
        let keys: Vec<&str> = e.problems().iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["team", "job"]);
    }

    #[test]
    fn rejects_blank_deployment() {
        let job = JobRef::new("t", "j").unwrap();
        assert!(job.with_deployment(" ").is_err());
    }
}
