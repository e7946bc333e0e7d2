//! The start-up path of every service binary: parse flags and environment, validate, set up
//! logging and signals, run the service, and turn the outcome into an exit code.
//!
//! Exit codes: 0 after a clean shutdown, 1 when the service fails while running, 2 for a
//! configuration error (printed as one line naming the setting and the reason).

use std::future::Future;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use tokio_util::sync::CancellationToken;

use crate::config::{ServiceConfig, ServiceInfo};
use crate::server::shutdown;
use crate::telemetry;

/// Exit code for a configuration error.
pub const EXIT_CONFIG: u8 = 2;

/// Runs a service binary: `main` for each `chatmesh-<name>`.
pub fn run_service<C, F, Fut, E>(info: &ServiceInfo, serve: F) -> ExitCode
where
    C: ServiceConfig,
    F: FnOnce(C, CancellationToken) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let binary = info.binary();
    let config = match parse_config::<C, _, _>(info, std::env::args_os()) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let workers = config.server().worker_threads.map(usize::from);
    crate::memory::limit_arenas(workers);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = workers {
        builder.worker_threads(threads);
    }
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{binary}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = config.server();
    // The OTLP exporter's client lives on the runtime, so it is built inside it.
    let telemetry = {
        let _runtime = runtime.enter();
        telemetry::init(
            info.name,
            server.log_format,
            &server.log_filter,
            telemetry::otlp_endpoint_from_env().as_deref(),
        )
    };
    let telemetry = match telemetry {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("{binary}: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    tracing::info!(
        workers = runtime.metrics().num_workers(),
        "async runtime started"
    );
    let exit = runtime.block_on(async move {
        let token = shutdown::on_signal();
        match serve(config, token).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "{binary} failed");
                eprintln!("{binary}: {e}");
                ExitCode::FAILURE
            }
        }
    });
    // Flush the last spans while the runtime that drives the exporter still runs.
    telemetry.shutdown();
    exit
}

/// Parses and validates `C` from `args` (the first is the program name). On failure prints
/// help/version to stdout (exit 0) or one error line to stderr (exit 2), and returns the code.
pub fn parse_config<C, I, T>(info: &ServiceInfo, args: I) -> Result<C, ExitCode>
where
    C: ServiceConfig,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let binary = info.binary();
    let mut command =
        with_service_defaults(without_empty_env(C::command()), info).name(binary.clone());
    let parsed = command
        .try_get_matches_from_mut(args)
        .and_then(|mut matches| C::from_arg_matches_mut(&mut matches));
    let mut config = match parsed {
        Ok(config) => config,
        Err(err) => return Err(report_parse_error(&binary, &err, &command)),
    };
    if let Err(err) = config
        .validate()
        .and_then(|()| config.server().tls.validate())
        .and_then(|()| config.server().callers.validate())
    {
        eprintln!("{binary}: {err}");
        return Err(ExitCode::from(EXIT_CONFIG));
    }
    Ok(config)
}

/// Prints a clap outcome the chatmesh way: help and version to stdout (exit 0), an error as one
/// line on stderr naming the setting (exit 2).
pub fn report_parse_error(program: &str, err: &clap::Error, command: &clap::Command) -> ExitCode {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        let code = if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            EXIT_CONFIG
        } else {
            0
        };
        return ExitCode::from(code);
    }
    eprintln!("{program}: {}", one_line(err, command));
    ExitCode::from(EXIT_CONFIG)
}

/// Makes an environment variable set to the empty string count as unset: compose files and
/// charts write `CHATMESH_SESSION_URL=` for a setting the operator left out (compose cannot
/// leave a key out conditionally), which must mean the default, not an invalid value.
fn without_empty_env(mut command: clap::Command) -> clap::Command {
    let empty: Vec<clap::Id> = command
        .get_arguments()
        .filter(|a| {
            a.get_env()
                .and_then(std::env::var_os)
                .is_some_and(|value| value.is_empty())
        })
        .map(|a| a.get_id().clone())
        .collect();
    for id in empty {
        command = command.mut_arg(id, |a| a.env(None));
    }
    command
}

/// Shows the per-service defaults of the shared flags in `--help`.
fn with_service_defaults(command: clap::Command, info: &ServiceInfo) -> clap::Command {
    let listen = format!("0.0.0.0:{}", info.default_port);
    let data_dir = format!("data/{}", info.name);
    let mut command = command;
    if command.get_arguments().any(|a| a.get_id() == "listen") {
        command = command.mut_arg("listen", |a| a.default_value(listen));
    }
    if command.get_arguments().any(|a| a.get_id() == "data_dir") {
        command = command.mut_arg("data_dir", |a| a.default_value(data_dir));
    }
    command
}

/// The first line of a clap error, plus the environment variable when the value came from one,
/// and clap's suggestion when it has one (a misspelt `--data-dri` gets `did you mean
/// '--data-dir'?`: clap prints that on a later line, which one line would lose).
fn one_line(err: &clap::Error, command: &clap::Command) -> String {
    let rendered = err.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments");
    let mut line = first.trim_start_matches("error: ").to_owned();
    // Missing arguments (e.g. --tls-key given --tls-ca) are listed on the following lines.
    if let Some(ContextValue::Strings(missing)) = err.get(ContextKind::InvalidArg)
        && err.kind() == ErrorKind::MissingRequiredArgument
    {
        line = format!("{} {}", line.trim_end_matches(':'), missing.join(", "));
    }
    if let Some(ContextValue::String(flag)) = err.get(ContextKind::InvalidArg) {
        let long = flag.split_whitespace().next().unwrap_or_default();
        let env = command
            .get_arguments()
            .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == long))
            .and_then(|a| a.get_env())
            .map(|e| e.to_string_lossy().into_owned());
        if let Some(env) = env.filter(|e| std::env::var_os(e).is_some()) {
            line.push_str(&format!(" (from {env})"));
        }
    }
    let suggested = [ContextKind::SuggestedArg, ContextKind::SuggestedValue]
        .into_iter()
        .find_map(|kind| match err.get(kind) {
            Some(ContextValue::String(one)) => Some(one.clone()),
            Some(ContextValue::Strings(many)) if !many.is_empty() => Some(many.join("' or '")),
            _ => None,
        });
    if let Some(suggested) = suggested {
        line.push_str(&format!("; did you mean '{suggested}'?"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataDirArgs, ServerArgs};

    #[derive(clap::Parser, Debug)]
    struct TestConfig {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        data: DataDirArgs,
    }

    impl ServiceConfig for TestConfig {
        fn server(&self) -> &ServerArgs {
            &self.server
        }
    }

    const INFO: ServiceInfo = ServiceInfo {
        name: "test",
        fqn: "chatmesh.test.v1.TestService",
        default_port: 50099,
        file_descriptor_set: &[],
    };

    #[test]
    fn defaults_come_from_the_service_info() {
        let config: TestConfig = parse_config(&INFO, ["x"]).unwrap();
        assert_eq!(config.server.listen_addr(&INFO).port(), 50099);
        assert_eq!(config.data.path(&INFO), std::path::Path::new("data/test"));
    }

    #[test]
    fn bad_values_are_exit_code_two() {
        for args in [
            vec!["x", "--bogus"],
            vec!["x", "--listen", "0.0.0.0:99999"],
            vec!["x", "--shutdown-grace", "soon"],
        ] {
            let err = parse_config::<TestConfig, _, _>(&INFO, args.clone()).unwrap_err();
            assert_eq!(err, ExitCode::from(EXIT_CONFIG), "{args:?}");
        }
    }

    #[test]
    fn a_missing_tls_file_is_named_on_the_one_line() {
        let mut command = <TestConfig as clap::CommandFactory>::command();
        let err = command
            .try_get_matches_from_mut(["x", "--tls-ca", "a", "--tls-cert", "b"])
            .unwrap_err();
        let line = one_line(&err, &command);
        assert!(line.contains("--tls-key"), "{line}");
        assert!(!line.contains("--tls-cert"), "{line}");
        let exit = parse_config::<TestConfig, _, _>(&INFO, ["x", "--tls-key", "k"]).unwrap_err();
        assert_eq!(exit, ExitCode::from(EXIT_CONFIG));
    }

    #[test]
    fn a_misspelt_flag_or_value_gets_clap_suggestion_on_the_one_line() {
        let mut command = <TestConfig as clap::CommandFactory>::command();
        for (args, suggestion) in [
            (vec!["x", "--data-dri", "d"], "did you mean '--data-dir'?"),
            (vec!["x", "--log-format", "jsn"], "did you mean 'json'?"),
        ] {
            let err = command.try_get_matches_from_mut(args).unwrap_err();
            let line = one_line(&err, &command);
            assert!(line.ends_with(suggestion), "{line}");
        }
        let err = command
            .try_get_matches_from_mut(["x", "--zzzzzz"])
            .unwrap_err();
        assert!(!one_line(&err, &command).contains("did you mean"));
    }

    #[test]
    fn help_is_not_an_error() {
        let exit = parse_config::<TestConfig, _, _>(&INFO, ["x", "--help"]).unwrap_err();
        assert_eq!(exit, ExitCode::SUCCESS);
    }
}
