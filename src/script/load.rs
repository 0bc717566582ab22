//! `liaison tenant apply` for a script tenant: the file named by `ats.script` (relative to the
//! tenant file) is read and stored with the tenant, after a check that it compiles and that
//! something verifies its webhooks.

use std::path::Path;

use super::sandbox::{self, CATCH_LIMITS, Entry, Program};
use crate::tenant::TenantConfig;

/// Reads the script of a script tenant into `ats.script_source` and checks it.
pub fn attach_script(config: &mut TenantConfig, dir: &Path) -> Result<(), String> {
    if !crate::ats::script::is_script(config) {
        return Ok(());
    }
    let ats = &mut config.ats;
    if let Some(file) = &ats.script {
        let path = dir.join(file);
        let source = std::fs::read_to_string(&path)
            .map_err(|e| format!("`ats.script`: cannot read {}: {e}", path.display()))?;
        ats.script_source = Some(source);
    }
    let program = Program::new(
        ats.script.clone().unwrap_or_else(|| "script.js".to_owned()),
        ats.script_source.clone().unwrap_or_default(),
        None,
    );
    let exports = check(&program)?;
    if !exports.contains(&Entry::Catch) && !exports.contains(&Entry::Pull) {
        return Err("`ats.script` exports neither `catch` nor `pull`".to_owned());
    }
    if exports.contains(&Entry::Catch)
        && !exports.contains(&Entry::Verify)
        && ats.verifier.is_none()
    {
        return Err(
            "`ats.script` exports `catch` but nothing verifies webhooks: export `verify` or set `ats.verifier`"
                .to_owned(),
        );
    }
    Ok(())
}

/// Compiles and loads `program`; answers the functions it exports.
pub fn check(program: &Program) -> Result<Vec<Entry>, String> {
    let (result, _) = sandbox::run(program, CATCH_LIMITS, None, |session| {
        Ok([Entry::Verify, Entry::Catch, Entry::Pull, Entry::WriteBack]
            .into_iter()
            .filter(|e| session.exports(*e))
            .collect())
    });
    result.map_err(|e| format!("`ats.script`: {e}"))
}
