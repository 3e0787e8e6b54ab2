#!/usr/bin/env bash
# Installs the Prometheus/Alertmanager command-line tools the ops tests (test/ops/) need:
# promtool, prometheus, amtool, alertmanager — from Debian's `prometheus` and
# `prometheus-alertmanager` packages. Idempotent: does nothing when all four are on PATH.
#
# Debian's packages ship service units/init scripts that would start Prometheus on :9090 and
# Alertmanager on :9093. The tests start their own instances on random ports, so after the
# install we make sure no packaged daemon is left running (policy-rc.d forbids starting services
# during the install; anything that still listens on 9090/9093 and was started by the package
# is stopped).
set -euo pipefail

need=()
for bin in promtool prometheus amtool alertmanager; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    # Debian's name for the alertmanager daemon; linked below.
    if [ "$bin" = alertmanager ] && [ -x /usr/bin/prometheus-alertmanager ]; then continue; fi
    need+=("$bin")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "${#need[@]}" -gt 0 ]; then
  echo "install-ops: missing ${need[*]}; installing Debian packages prometheus prometheus-alertmanager"
  export DEBIAN_FRONTEND=noninteractive
  # Forbid maintainer scripts from starting daemons (invoke-rc.d honours policy-rc.d, exit 101 = deny).
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    created_policy=1
  fi
  trap '[ "$created_policy" = 1 ] && $SUDO rm -f "$policy" || true' EXIT
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
else
  echo "install-ops: promtool, prometheus, amtool, alertmanager already installed"
fi

# Debian installs the Alertmanager daemon as /usr/bin/prometheus-alertmanager; expose it under its
# upstream name too, since the tests (and the docs) call `alertmanager`.
if ! command -v alertmanager >/dev/null 2>&1 && [ -x /usr/bin/prometheus-alertmanager ]; then
  $SUDO ln -sf /usr/bin/prometheus-alertmanager /usr/local/bin/alertmanager
  echo "install-ops: linked /usr/local/bin/alertmanager -> /usr/bin/prometheus-alertmanager"
fi

# Stop packaged daemons if something started them anyway (systemd, or the sysvinit scripts, which
# only act on the daemon they started: their pidfile, run as user prometheus).
for svc in prometheus prometheus-alertmanager; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
    $SUDO systemctl disable "$svc" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$svc" ] && [ -e "/run/prometheus/$svc.pid" ]; then
    $SUDO "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
done

# Anything still holding the default ports: stop it only if it is the packaged daemon (its
# executable and user), identified by the PID that listens — never by name.
pid_on_port() {
  command -v ss >/dev/null 2>&1 || return 0
  { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2; } || true
}
for port in 9090 9093; do
  pid=$(pid_on_port "$port")
  [ -n "$pid" ] || continue
  exe=$(readlink -f "/proc/$pid/exe" 2>/dev/null || true)
  user=$(ps -o user= -p "$pid" 2>/dev/null | tr -d ' ' || true)
  case "$exe" in
    /usr/bin/prometheus | /usr/bin/prometheus-alertmanager)
      if [ "$user" = prometheus ]; then
        echo "install-ops: stopping packaged $(basename "$exe") (pid $pid) listening on :$port"
        $SUDO kill "$pid" 2>/dev/null || true
        for _ in 1 2 3 4 5; do [ -d "/proc/$pid" ] || break; sleep 1; done
        continue
      fi
      ;;
  esac
  echo "install-ops: note: port $port is in use by pid $pid ($exe), not a packaged daemon; left alone" >&2
done

for bin in promtool prometheus amtool alertmanager; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    echo "install-ops: $bin is still missing after install" >&2
    exit 1
  fi
done
echo "install-ops: $(promtool --version 2>&1 | head -1)"
echo "install-ops: $(alertmanager --version 2>&1 | head -1)"
