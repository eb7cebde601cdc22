//! What a finished plan counted that the user must hear about: the nfcapd blocks and files
//! skipped with --skip-corrupt (the scan's metrics, labelled with the file and its first error).

use datafusion::physical_plan::ExecutionPlan;

/// Prints every skip counted anywhere in `plan` on standard error.
pub fn skipped(plan: &dyn ExecutionPlan) {
    for metric in plan
        .metrics()
        .iter()
        .flat_map(|m| m.iter().cloned().collect::<Vec<_>>())
    {
        let n = metric.value().as_usize();
        if n == 0 {
            continue;
        }
        let label = |name: &str| {
            metric
                .labels()
                .iter()
                .find(|l| l.name() == name)
                .map_or_else(String::new, |l| l.value().to_string())
        };
        match metric.value().name() {
            "corrupt_blocks_skipped" => eprintln!(
                "flow-models: skipped {n} corrupt block(s) of {}; first: {}",
                label("file"),
                label("first_error")
            ),
            "files_skipped" => eprintln!(
                "flow-models: skipped an unreadable file: {}",
                label("first_error")
            ),
            _ => {}
        }
    }
    for child in plan.children() {
        skipped(child.as_ref());
    }
}
