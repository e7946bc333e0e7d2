//! `chatmesh certs`: a development CA and one certificate per service, for trying mTLS locally,
//! in compose or in a test cluster. Writes `ca.pem` and `ca.key`, then `<service>.pem` and
//! `<service>.key` for each of the five services; each service certificate names the service
//! (the compose host name), loopback, and every `--san`. Existing files are kept unless
//! `--force`; keys are written readable by the owner only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod dev_ca;

use dev_ca::{DevCa, SERVICES, service_names};

#[derive(Debug, clap::Args)]
pub(crate) struct CertsArgs {
    /// Directory to write the files into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Extra DNS name or IP address for every service certificate (repeatable). `{svc}` is
    /// replaced by the service's name, e.g. `--san '{svc}.chatmesh.svc.cluster.local'`.
    #[arg(long = "san", value_name = "NAME")]
    sans: Vec<String>,
    /// Replace files that already exist.
    #[arg(long)]
    force: bool,
}

/// One file to write: its name and contents, and whether it is secret.
struct Output {
    name: String,
    contents: String,
    secret: bool,
}

pub(crate) fn run(args: CertsArgs) -> ExitCode {
    let outputs = match generate(&args.sans) {
        Ok(outputs) => outputs,
        Err(e) => {
            eprintln!("chatmesh certs: {e}");
            return ExitCode::from(chatmesh_runtime::cli::EXIT_CONFIG);
        }
    };
    match write_all(&args.out, &outputs, args.force) {
        Ok(()) => {
            println!(
                "chatmesh certs: wrote ca.pem, ca.key and a certificate and key for {} in {}",
                SERVICES.join(", "),
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chatmesh certs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(sans: &[String]) -> Result<Vec<Output>, String> {
    let ca = DevCa::new("chatmesh development CA").map_err(|e| e.to_string())?;
    let mut outputs = vec![
        Output {
            name: "ca.pem".into(),
            contents: ca.cert_pem().to_owned(),
            secret: false,
        },
        Output {
            name: "ca.key".into(),
            contents: ca.key_pem(),
            secret: true,
        },
    ];
    for service in SERVICES {
        let extra: Vec<String> = sans.iter().map(|s| s.replace("{svc}", service)).collect();
        let issued = ca
            .issue(service, &service_names(service, &extra))
            .map_err(|e| format!("cannot issue the {service} certificate: {e}"))?;
        outputs.push(Output {
            name: format!("{service}.pem"),
            contents: issued.cert_pem,
            secret: false,
        });
        outputs.push(Output {
            name: format!("{service}.key"),
            contents: issued.key_pem,
            secret: true,
        });
    }
    Ok(outputs)
}

/// Writes every file, or none when one exists already and `force` is off.
fn write_all(dir: &Path, outputs: &[Output], force: bool) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if !force {
        let existing: Vec<&str> = outputs
            .iter()
            .filter(|o| dir.join(&o.name).exists())
            .map(|o| o.name.as_str())
            .collect();
        if !existing.is_empty() {
            return Err(format!(
                "{} already holds {}; pass --force to replace them",
                dir.display(),
                existing.join(", ")
            ));
        }
    }
    for output in outputs {
        let path = dir.join(&output.name);
        write_file(&path, &output.contents, output.secret)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn write_file(path: &Path, contents: &str, secret: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let mode = if secret { 0o600 } else { 0o644 };
        options.mode(mode);
        let mut file = options.open(path)?;
        // `mode` applies only to new files: a replaced key gets its permissions fixed too.
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.write_all(contents.as_bytes())
    }
    #[cfg(not(unix))]
    {
        let _ = secret;
        options.open(path)?.write_all(contents.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_ca_and_five_certificates_and_refuses_to_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("certs");
        let outputs = generate(&["{svc}.mesh.svc".into()]).unwrap();
        write_all(&out, &outputs, false).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "ca.key",
                "ca.pem",
                "chatbot.key",
                "chatbot.pem",
                "graph.key",
                "graph.pem",
                "relational.key",
                "relational.pem",
                "router.key",
                "router.pem",
                "vector.key",
                "vector.pem"
            ]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |n: &str| std::fs::metadata(out.join(n)).unwrap().permissions().mode();
            assert_eq!(mode("graph.key") & 0o777, 0o600);
            assert_eq!(mode("ca.key") & 0o777, 0o600);
            assert_eq!(mode("graph.pem") & 0o777, 0o644);
        }

        let before = std::fs::read(out.join("ca.pem")).unwrap();
        let err = write_all(&out, &generate(&[]).unwrap(), false).unwrap_err();
        assert!(err.contains("--force") && err.contains("ca.pem"), "{err}");
        assert_eq!(std::fs::read(out.join("ca.pem")).unwrap(), before);

        write_all(&out, &generate(&[]).unwrap(), true).unwrap();
        assert_ne!(std::fs::read(out.join("ca.pem")).unwrap(), before);
    }
}
