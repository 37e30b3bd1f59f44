#!/usr/bin/env bash
# Smoke test of the Todo image (make image-test): runs `todo serve` in a container on a free
# published port with a read-only root filesystem and /data on a volume; registers a user,
# creates a task, finds it in /api/tasks and in the audit log (/api/audit-logs and the task's
# history), checks the container's health, then stops it with SIGTERM and expects exit code 0
# and the `stopped` log line.
set -euo pipefail

IMAGE=${IMAGE:-todo:dev}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$(cd "$(dirname "$0")/.." && pwd)/deploy/containers.conf}
name=todo-image-test-$$
volume=$name-data
failed=0

log() { echo "image-test: $*"; }
fail() { log "FAIL: $*"; failed=1; }
cleanup() {
  if ((failed)); then log "container log:"; podman logs "$name" 2>&1 | tail -n 40 || true; fi
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman volume rm -f "$volume" >/dev/null 2>&1 || true
}
trap cleanup EXIT

podman image exists "$IMAGE" || { log "no image $IMAGE: run make image first"; exit 1; }
size=$(podman image inspect -f '{{.Size}}' "$IMAGE")
log "image $IMAGE, $((size / 1024 / 1024)) MiB"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
podman volume create "$volume" >/dev/null
# Podman runs HEALTHCHECKs from systemd timers and complains where there is no systemd (this
# machine); the check is run by hand below instead.
quiet_podman() { "$@" 2> >(grep -v 'systemd connection' >&2); }
quiet_podman podman run -d --name "$name" --read-only -p "127.0.0.1:$port:8000" -v "$volume:/data" \
  "$IMAGE" >/dev/null
base=http://127.0.0.1:$port
log "started $name (todo serve) on $base"

# Poll a condition with a deadline, no fixed sleeps beyond the poll interval.
wait_for() { # seconds description command...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then fail "timed out waiting for $what"; exit 1; fi
    if [[ $(podman inspect -f '{{.State.Running}}' "$name") != true ]]; then
      fail "the container exited while waiting for $what"; exit 1
    fi
    sleep 0.2
  done
}
wait_for 30 "/health" curl -fsS "$base/health"
wait_for 30 "/ready" curl -fsS "$base/ready"
log "/health and /ready answer 200"
# Whole outputs first, then grep: with pipefail, grep -q leaving early would fail the pipeline
# (its writer gets SIGPIPE) exactly when it found what it looked for.
page=$(curl -fsS "$base/") || page=""
grep -q '<script' <<<"$page" || fail "/ does not serve the web app"
log "/ serves the web app baked into the image"

json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
email="image-test-$$@example.com"
register=$(curl -fsS "$base/api/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"image test pass $$\",\"display_name\":\"Image\",\"timezone\":\"UTC\"}")
token=$(json 'd["access_token"]' <<<"$register")
auth=(-H "Authorization: Bearer $token")
log "registered $email"

task=$(curl -fsS "$base/api/tasks" "${auth[@]}" -H 'Content-Type: application/json' \
  -d '{"title":"Image smoke test","priority":"high","tags":["image"]}')
task_id=$(json 'd["id"]' <<<"$task")
log "created task $task_id"

listed=$(curl -fsS "$base/api/tasks" "${auth[@]}" | json "[t['id'] for t in d['items']].count('$task_id')")
[[ $listed == 1 ]] || fail "task $task_id not in /api/tasks"
log "task is in /api/tasks"

# The audit service consumes the event asynchronously: poll for the entry.
audit_has_task() {
  curl -fsS "$base/api/audit-logs?task_id=$task_id" "${auth[@]}" \
    | json "any(e['task_id']=='$task_id' and e['event_type']=='task.created' for e in d['items']) or sys.exit(1)"
}
wait_for 30 "the audit entry of $task_id" audit_has_task
history=$(curl -fsS "$base/api/tasks/$task_id/history" "${auth[@]}" | json 'len(d["items"])')
[[ $history -ge 1 ]] || fail "no history of $task_id"
log "task.created is in /api/audit-logs and in the task's history"

version=$(podman run --rm --read-only --no-healthcheck "$IMAGE" version 2>&1) || fail "todo version in the image: $version"
log "another command in the same image: todo version -> $version"

health=$(podman healthcheck run "$name" 2>&1 && echo healthy || echo unhealthy)
[[ $health == *healthy* && $health != *unhealthy* ]] || fail "HEALTHCHECK: $health"
log "HEALTHCHECK: healthy"

podman kill --signal TERM "$name" >/dev/null
code=$(timeout 30 podman wait "$name" || echo timeout)
[[ $code == 0 ]] || fail "exit code after SIGTERM: $code (want 0)"
container_log=$(podman logs "$name" 2>&1) || true
grep -q '"msg":"stopped"' <<<"$container_log" || fail "no \"stopped\" log line after SIGTERM"
user=$(podman inspect -f '{{.Config.User}}' "$name")
[[ $user != "" && $user != root && $user != 0* ]] || fail "the container runs as root ($user)"
((failed)) && exit 1
log "SIGTERM: exit code 0 and the \"stopped\" line; ran as user $user with a read-only root"
log "PASS"
