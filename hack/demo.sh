#!/usr/bin/env bash
# make demo: start the sandbox, install osk's CRDs, run the operator,
# deploy an example (examples/compute.yaml unless EXAMPLE is set) and wait
# until it is APPLIED, then show where each service runs. The sandbox and
# the operator keep running; make demo-down removes them.
set -euo pipefail
cd "$(dirname "$0")/.."
osk=$PWD/bin/osk
example=${EXAMPLE:-examples/compute.yaml}
timeout=${TIMEOUT:-900}

$osk sandbox up
state=$($osk sandbox status | awk '/Kubeconfig:/ { print $2 }')
export KUBECONFIG=$state
kubectl() { $osk sandbox kubectl "$@"; }

echo "== installing osk's CRDs"
kubectl apply --server-side -f config/crd/bases >/dev/null
kubectl wait --for condition=Established --timeout 60s crd/openstackdeployments.osk.dev >/dev/null

echo "== starting the operator (log: $(dirname "$state")/operator.log)"
nohup $osk operator --kubeconfig "$state" --metrics-bind-address 127.0.0.1:0 \
  --health-probe-bind-address 127.0.0.1:0 >"$(dirname "$state")/operator.log" 2>&1 &
echo $! >"$(dirname "$state")/operator.pid"

echo "== deploying $example"
kubectl create namespace openstack --dry-run=client -o yaml | kubectl apply -f - >/dev/null
# The sandbox runs no Ceph: a stand-in Ceph Secret (documentation
# addresses, fresh keys in cephx format that no cluster knows) lets the
# Ceph clients start. See the README's Ceph section for its keys.
cephx() { { printf '\001\000'; head -c 8 /dev/zero; printf '\020\000'; head -c 16 /dev/urandom; } | base64; }
if ! kubectl -n openstack get secret openstack-ceph-keys >/dev/null 2>&1; then
  args=(--from-literal=fsid=7e1d2f0a-3b4c-4d5e-8f60-718293a4b5c6 --from-literal=mon-host=192.0.2.10:6789
    --from-literal=rgw-internal-url=http://192.0.2.20:8080)
  for role in images volumes vms backup metrics; do args+=(--from-literal=pool.$role=$role); done
  for client in glance cinder cinder-backup gnocchi; do args+=(--from-literal=client.$client.key="$(cephx)"); done
  kubectl -n openstack create secret generic openstack-ceph-keys "${args[@]}" >/dev/null
  kubectl -n openstack label secret openstack-ceph-keys osk.dev/ceph-keys=true >/dev/null
fi
name=$(kubectl apply -n openstack -f "$example" -o jsonpath='{.metadata.name}')

start=$SECONDS last=
while :; do
  line=$(kubectl -n openstack get osdpl "$name" --no-headers 2>/dev/null || true)
  [ "$line" != "$last" ] && printf '%4ds  %s\n' $((SECONDS - start)) "$line" && last=$line
  case $line in *APPLIED*) break ;; *FAILED*) echo "deployment FAILED:"; kubectl -n openstack get osdpl "$name" -o jsonpath='{.status.conditions}'; exit 1 ;; esac
  if ((SECONDS - start > timeout)); then echo "not APPLIED after ${timeout}s"; exit 1; fi
  sleep 2
done

echo "== services"
kubectl -n openstack get osdpl "$name" \
  -o go-template='{{range $k, $v := .status.services}}{{printf "  %-16s %-8s %d/%d workloads ready\n" $k $v.state $v.ready $v.total}}{{end}}'
echo "== where each workload runs"
kubectl -n openstack get pods --field-selector status.phase=Running \
  -o go-template='{{range .items}}{{.spec.nodeName}} {{.metadata.name}}{{"\n"}}{{end}}' |
  sed -E 's/-[a-z0-9]{8,10}-[a-z0-9]{5}$//; s/-[a-z0-9]{5}$//' | sort -u |
  awk '{ w[$1] = w[$1] " " $2 } END { for (n in w) print "  " n ":" w[n] }' | sort
cat <<MSG
== the sandbox keeps running; look around with
  export KUBECONFIG=$state
  bin/osk sandbox kubectl -n openstack get osdpl,deploy,sts,ds,jobs
Remove it all with: make demo-down
MSG
