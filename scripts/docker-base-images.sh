#!/usr/bin/env bash
# Make, without any registry, the base images that Dockerfile.multistage and docker-compose.yaml
# name, under those exact public tags, each ONLY when the engine does not already have it:
#
#   debian:bookworm-slim                   debootstrap --variant=minbase bookworm, imported
#   rust:1.95-slim-bookworm                that + gcc, libc6-dev, ca-certificates + this machine's
#                                          Rust 1.95 toolchain, laid out as the official image
#                                          (RUSTUP_HOME=/usr/local/rustup, CARGO_HOME=/usr/local/cargo)
#   gcr.io/distroless/cc-debian12:nonroot  minimal like distroless cc: glibc, libgcc, CA bundle,
#                                          passwd/group with nonroot (65532), no shell, USER 65532
#   postgres:15-bookworm                   (only with --postgres) debian + apt postgresql-15 and a
#                                          small entrypoint that honours POSTGRES_USER/PASSWORD/DB
#                                          and PGDATA the way the official image does
#   pgvector/pgvector:pg15                 (only with --postgres) that + pgvector: the extension as
#                                          built on this machine for PostgreSQL 15 by
#                                          scripts/start-postgres.sh (same Debian, same server
#                                          ABI), copied in; the compose `postgres` and `scale`
#                                          profiles run it
#
# These are stand-ins made on this machine so that CI can build and run the real files; users
# pull the real images. On a machine where the images exist (pulled), nothing is done.
#
# Usage: scripts/docker-base-images.sh [--postgres] [--force]
#   --postgres  also make postgres:15-bookworm and pgvector/pgvector:pg15 (the compose `postgres`
#               and `scale` profiles); runs scripts/start-postgres.sh when this machine has no
#               pgvector build to copy yet
#   --force     remake the images even when present
# Needs: a running engine (scripts/docker-engine.sh), debootstrap, root, Debian's apt mirror
# (debootstrap and apt inside the image builds). Rust toolchain: $RUST_TOOLCHAIN_DIR, else the
# rustc on PATH (its sysroot), which must be 1.95.x.
set -euo pipefail

DEBIAN_IMAGE="debian:bookworm-slim"
RUST_IMAGE="rust:1.95-slim-bookworm"
RUST_VERSION_PREFIX="1.95."
RUNTIME_IMAGE="gcr.io/distroless/cc-debian12:nonroot"
POSTGRES_IMAGE="postgres:15-bookworm"
PGVECTOR_IMAGE="pgvector/pgvector:pg15"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${CHATMESH_ROOTFS_CACHE:-/var/cache/chatmesh-rootfs}"

WITH_POSTGRES=0
FORCE=0
for arg in "$@"; do
    case "$arg" in
    --postgres) WITH_POSTGRES=1 ;;
    --force) FORCE=1 ;;
    *) echo "usage: $0 [--postgres] [--force]" >&2; exit 2 ;;
    esac
done

say() { printf '%-40s %s\n' "$1" "$2"; }
die() { echo "docker-base-images.sh: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers: run scripts/docker-engine.sh first"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing: run scripts/docker-engine.sh first"

have() { [ "$FORCE" -eq 0 ] && docker image inspect "$1" >/dev/null 2>&1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The legacy builder: `docker build` with BuildKit needs buildx, which is not installed here.
# These builds use neither cache mounts nor multi-stage features.
build() {
    if ! DOCKER_BUILDKIT=0 docker build "$@" >"$WORK/build.log" 2>&1; then
        tail -n 30 "$WORK/build.log" >&2
        return 1
    fi
}

# ---------------------------------------------------------------------------------------------
# The bookworm minbase root file system, kept between runs (debootstrap takes ~30-60 s).
ROOTFS="$CACHE/bookworm-minbase"
rootfs() {
    if [ ! -f "$ROOTFS/.complete" ]; then
        rm -rf "$ROOTFS"
        mkdir -p "$CACHE"
        debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
            || die "debootstrap failed; see $CACHE/debootstrap.log"
        # apt caches and lists are not wanted in an image.
        rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
        touch "$ROOTFS/.complete"
    fi
}

# ---------------------------------------------------------------------------------------------
# debian:bookworm-slim
if have "$DEBIAN_IMAGE"; then
    say "$DEBIAN_IMAGE" "already present"
else
    rootfs
    tar -C "$ROOTFS" --exclude=./.complete -c . \
        | docker import --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
    say "$DEBIAN_IMAGE" "made (debootstrap minbase)"
fi

# ---------------------------------------------------------------------------------------------
# rust:1.95-slim-bookworm
if have "$RUST_IMAGE"; then
    say "$RUST_IMAGE" "already present"
else
    toolchain="${RUST_TOOLCHAIN_DIR:-}"
    if [ -z "$toolchain" ]; then
        command -v rustc >/dev/null 2>&1 || die "no rustc on PATH; set RUST_TOOLCHAIN_DIR"
        toolchain="$(rustc --print sysroot)"
    fi
    version="$("$toolchain/bin/rustc" --version | cut -d' ' -f2)"
    case "$version" in
    "$RUST_VERSION_PREFIX"*) ;;
    *) die "the toolchain at $toolchain is rustc $version, not $RUST_VERSION_PREFIX*" ;;
    esac
    mkdir -p "$WORK/rust"
    # This machine's CA bundle replaces Debian's: where HTTPS goes through an inspecting proxy,
    # its CA is only in the machine's bundle, and cargo in the builder must reach crates.io.
    bundle=/etc/ssl/certs/ca-certificates.crt
    [ -f "$bundle" ] || die "no CA bundle at $bundle on this machine (apt-get install ca-certificates)"
    cp "$bundle" "$WORK/rust/ca-certificates.crt"
    # Only what builds: the compilers, the standard library and the bundled linker (rust-lld,
    # gcc-ld), no docs.
    tar -C "$toolchain" -cf "$WORK/rust/toolchain.tar" \
        --exclude=./share/doc --exclude=./share/zsh \
        ./bin ./lib
    cat >"$WORK/rust/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev \\
 && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup \\
    CARGO_HOME=/usr/local/cargo \\
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    RUST_VERSION=$version
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ADD toolchain.tar /usr/local/rustup/toolchains/$version-x86_64-unknown-linux-gnu/
RUN mkdir -p /usr/local/cargo/bin \\
 && for b in /usr/local/rustup/toolchains/$version-x86_64-unknown-linux-gnu/bin/*; do ln -s "\$b" /usr/local/cargo/bin/; done \\
 && chmod -R a+w /usr/local/cargo \\
 && cargo --version && rustc --version
EOF
    build -t "$RUST_IMAGE" "$WORK/rust" || die "building $RUST_IMAGE failed"
    rm -rf "$WORK/rust"
    say "$RUST_IMAGE" "made (debian minbase + gcc + rustc $version from $toolchain)"
fi

# ---------------------------------------------------------------------------------------------
# gcr.io/distroless/cc-debian12:nonroot
if have "$RUNTIME_IMAGE"; then
    say "$RUNTIME_IMAGE" "already present"
else
    rootfs
    root="$WORK/distroless"
    mkdir -p "$root"
    # The merged-/usr links, then the files of libc6 and libgcc-s1 as dpkg lists them, minus
    # documentation and locale data (distroless keeps neither man pages nor a shell).
    mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/usr/lib64" "$root/usr/sbin"
    for link in bin lib lib64 sbin; do cp -a "$ROOTFS/$link" "$root/"; done
    for pkg in libc6 libgcc-s1; do
        list="$ROOTFS/var/lib/dpkg/info/$pkg:amd64.list"
        [ -f "$list" ] || die "no $list in the rootfs"
        grep -vE '^/usr/share/(doc|lintian|man|locale)' "$list" | while read -r path; do
            src="$ROOTFS$path"
            if [ -L "$src" ] || [ -f "$src" ]; then
                mkdir -p "$root$(dirname "$path")"
                cp -a "$src" "$root$path"
            fi
        done
    done
    # The CA bundle (what HTTPS clients in the services read), users and groups.
    bundle=/etc/ssl/certs/ca-certificates.crt
    [ -f "$bundle" ] || die "no CA bundle at $bundle on this machine (apt-get install ca-certificates)"
    install -D -m 0644 "$bundle" "$root$bundle"
    mkdir -p "$root/etc" "$root/tmp" "$root/home/nonroot" "$root/root"
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"
    chown 65532:65532 "$root/home/nonroot"
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
    echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
    cp "$ROOTFS/etc/os-release" "$root/etc/os-release" 2>/dev/null || cp -L "$ROOTFS/usr/lib/os-release" "$root/etc/os-release"
    if [ -e "$root/bin/sh" ] || [ -e "$root/usr/bin/sh" ] || [ -e "$root/usr/bin/bash" ]; then
        die "the distroless stand-in must not contain a shell"
    fi
    tar -C "$root" -c . | docker import \
        --change 'USER 65532' \
        --change 'WORKDIR /home/nonroot' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        - "$RUNTIME_IMAGE" >/dev/null
    rm -rf "$root"
    say "$RUNTIME_IMAGE" "made (glibc + libgcc + CA bundle, nonroot 65532, no shell; $(docker image inspect -f '{{.Size}}' "$RUNTIME_IMAGE") bytes)"
fi

# ---------------------------------------------------------------------------------------------
# postgres:15-bookworm (the base of the pgvector image below)
if [ "$WITH_POSTGRES" -eq 1 ]; then
    if have "$POSTGRES_IMAGE"; then
        say "$POSTGRES_IMAGE" "already present"
    else
        mkdir -p "$WORK/pg"
        cat >"$WORK/pg/entrypoint.sh" <<'EOF'
#!/bin/sh
# Stand-in for the official image's entrypoint: first start initialises PGDATA with
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, then runs the server as `postgres`.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "POSTGRES_PASSWORD must be set" >&2; exit 1; }
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" \
            | postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
fi
exec "$@"
EOF
        cat >"$WORK/pg/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \\
 && rm -rf /var/lib/apt/lists/*
# The package makes a cluster under /var/lib/postgresql/15/main; this image uses PGDATA instead.
RUN pg_dropcluster 15 main
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PGDATA=/var/lib/postgresql/data
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
        build -t "$POSTGRES_IMAGE" "$WORK/pg" || die "building $POSTGRES_IMAGE failed (apt inside the build needs $MIRROR)"
        say "$POSTGRES_IMAGE" "made (debian minbase + apt postgresql-15)"
    fi
fi

# ---------------------------------------------------------------------------------------------
# pgvector/pgvector:pg15 (the compose `postgres` and `scale` profiles): postgres:15-bookworm +
# pgvector. The official image is the same server with the extension built in; here the build
# that scripts/start-postgres.sh made from Debian's source package is copied in, so no compiler
# and no second source fetch go into the image.
if [ "$WITH_POSTGRES" -eq 1 ]; then
    if have "$PGVECTOR_IMAGE"; then
        say "$PGVECTOR_IMAGE" "already present"
    else
        lib=/usr/lib/postgresql/15/lib
        ext=/usr/share/postgresql/15/extension
        if [ ! -f "$lib/vector.so" ] || [ ! -f "$ext/vector.control" ]; then
            bash "$(dirname "${BASH_SOURCE[0]}")/start-postgres.sh" >/dev/null \
                || die "no pgvector build to copy, and scripts/start-postgres.sh could not make one"
        fi
        mkdir -p "$WORK/pgvector/extension"
        cp "$lib/vector.so" "$WORK/pgvector/"
        cp "$ext"/vector.control "$ext"/vector--*.sql "$WORK/pgvector/extension/"
        cat >"$WORK/pgvector/Dockerfile" <<EOF
FROM $POSTGRES_IMAGE
COPY vector.so /usr/lib/postgresql/15/lib/vector.so
COPY extension/ /usr/share/postgresql/15/extension/
EOF
        build -t "$PGVECTOR_IMAGE" "$WORK/pgvector" || die "building $PGVECTOR_IMAGE failed"
        say "$PGVECTOR_IMAGE" "made ($POSTGRES_IMAGE + this machine's pgvector build)"
    fi
fi
