#!/usr/bin/env bash
# Brings up deploy/compose.yaml with podman-compose (PostgreSQL, migrate, the five roles, the
# ingress) and drives it through the ingress: register, create a task, list it (api), its history
# (audit, by the regex route), its reminders (notify), the audit log (audit); then each role's
# /ready, and takes it all down again (volumes too). Uses deploy/.env, made from .env.example
# with fresh secrets when there is none. Needs the todo image (make image).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/deploy/containers.conf} BUILDAH_FORMAT=docker
project=todo-compose-test
compose=(podman-compose -p "$project" -f deploy/compose.yaml)
log() { echo "compose-test: $*"; }

if [[ ! -f deploy/.env ]]; then
  sed -e "s|^POSTGRES_PASSWORD=.*|POSTGRES_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')|" \
      -e "s|^TODO_JWT_SECRET=.*|TODO_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=')|" \
      deploy/.env.example >deploy/.env
  base=$(bash scripts/image-base.sh)
  echo "BASE_IMAGE=$base" >>deploy/.env
  log "made deploy/.env (fresh secrets, BASE_IMAGE=$base)"
fi
port=$(sed -n 's/^TODO_HTTP_PORT=//p' deploy/.env); port=${port:-8080}
base_url=http://127.0.0.1:$port

cleanup() { "${compose[@]}" down -v >/dev/null 2>&1 || true; }
trap cleanup EXIT
"${compose[@]}" build >/dev/null
"${compose[@]}" up -d >/dev/null 2>&1
log "up; waiting for the ingress and api"
deadline=$((SECONDS + 120))
until curl -fsS "$base_url/ready" >/dev/null 2>&1; do
  ((SECONDS < deadline)) || { log "FAIL: $base_url/ready never answered"; podman ps -a --filter "label=io.podman.compose.project=$project"; exit 1; }
  sleep 1
done

json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
token=$(curl -fsS "$base_url/api/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\":\"compose-$$@example.com\",\"password\":\"compose test pass $$\",\"timezone\":\"UTC\"}" | json 'd["access_token"]')
auth=(-H "Authorization: Bearer $token")
task_id=$(curl -fsS "$base_url/api/tasks" "${auth[@]}" -H 'Content-Type: application/json' \
  -d '{"title":"Compose smoke test","reminders":[15],"due_date":"2030-01-01T09:00","timezone":"UTC"}' | json 'd["id"]')
log "registered and created task $task_id through the ingress (api)"
curl -fsS "$base_url/api/tasks" "${auth[@]}" | json "'$task_id' in [t['id'] for t in d['items']] or sys.exit('not listed')" >/dev/null
log "it is in /api/tasks (api)"
deadline=$((SECONDS + 60))
until curl -fsS "$base_url/api/tasks/$task_id/history" "${auth[@]}" 2>/dev/null | json 'len(d["items"]) >= 1 or sys.exit(1)' >/dev/null 2>&1; do
  ((SECONDS < deadline)) || { log "FAIL: no history of $task_id from audit"; exit 1; }
  sleep 0.5
done
entries=$(curl -fsS "$base_url/api/audit-logs?task_id=$task_id" "${auth[@]}" | json 'len(d["items"])')
log "its history came from audit (regex route); /api/audit-logs (audit) has $entries entry"
curl -fsS "$base_url/api/tasks/$task_id/reminders" "${auth[@]}" >/dev/null && log "its reminders came from notify (regex route)"
# Live sync through the ingress's WebSocket upgrade to the sync role: hello, then a change made
# over HTTP (api) arrives on the socket (via the bus in PostgreSQL).
BASE_URL=$base_url TOKEN=$token /usr/bin/python3 - <<'PY'
import asyncio, json, os, urllib.request
import websockets

async def main():
    base, token = os.environ["BASE_URL"], os.environ["TOKEN"]
    async with websockets.connect(base.replace("http", "ws", 1) + "/ws/tasks?token=" + token) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["type"] == "hello", hello
        req = urllib.request.Request(base + "/api/tasks", method="POST",
                                     data=json.dumps({"title": "live"}).encode(),
                                     headers={"Authorization": "Bearer " + token,
                                              "Content-Type": "application/json"})
        created = json.load(urllib.request.urlopen(req))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 15))
            if created["id"] in json.dumps(msg):
                print("compose-test: the WebSocket (sync, through the ingress) got", msg.get("type"))
                return

asyncio.run(main())
PY
for role in api recurring notify sync audit; do
  state=$(podman exec "${project}_${role}_1" curl -fsS "http://127.0.0.1:$(
    case $role in api) echo 8000;; recurring) echo 8001;; notify) echo 8002;; sync) echo 8003;; audit) echo 8004;; esac)/ready" 2>&1 || true)
  log "$role /ready: $state"
done
log "PASS"
