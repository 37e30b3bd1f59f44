// make helm-test (tests/deploy/test_helm_chart.py): validates each object of a JSON array on stdin
// against its Kubernetes API schema (kubernetes-models). Prints one line per object; exit 1 if any is invalid.
import { readFileSync } from "node:fs";
const objects = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const o of objects) {
  const dir = o.apiVersion.includes("/") ? o.apiVersion : `v1`;
  const mod = await import(`kubernetes-models/${dir}/${o.kind}`);
  try {
    new mod[o.kind](o).validate();
    console.log(`ok ${o.kind} ${o.metadata.name}`);
  } catch (e) {
    failed++;
    console.log(`INVALID ${o.kind} ${o.metadata.name}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
