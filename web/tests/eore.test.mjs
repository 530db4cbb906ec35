import test from "node:test";
import assert from "node:assert/strict";
import { beneficiaryCells, sessionFeature, fieldForPointer, BENEFICIARY_ROWS, BENEFICIARY_SEXES } from "../static/js/eore.js";

test("the beneficiary grid sends each positive count as its sex × age × disability cell", () => {
  const cells = beneficiaryCells([
    ["b.female.age_5_12.without_disability", "12"],
    ["b.male.age_5_12.without_disability", ""],
    ["b.male.age_18_plus.with_disability", "3"],
    ["b.female.age_13_17.without_disability", "0"],
    ["b.female.age_13_17.with_disability", "2.5"],
    ["b.female.age_13_17.with_disability", "-1"],
    ["session_date", "2026-12-01"],
  ]);
  assert.deepEqual(cells, [
    { sex: "female", age_band: "age_5_12", disability: "without_disability", count: 12 },
    { sex: "male", age_band: "age_18_plus", disability: "with_disability", count: 3 },
  ]);
  assert.equal(BENEFICIARY_ROWS.length * BENEFICIARY_SEXES.length, 12);
});

test("a session at a point carries it; one not safe to record carries no point, only the area", () => {
  const values = { session_date: "2026-12-01", delivery_method: "interpersonal", audience: "children",
    messages_covered: ["report"], beneficiaries: [], hazard_ids: ["h1"], location: "point", admin: "ZZ0101" };
  const at = sessionFeature(values, { point: { lng: 31.2, lat: 49.1 }, settlementId: "s1" });
  assert.deepEqual(at.geometry, { type: "Point", coordinates: [31.2, 49.1] });
  assert.equal(at.properties.location_safe_to_record, true);
  assert.equal(at.properties.settlement_id, "s1");
  assert.equal(at.properties.admin, undefined);
  const hidden = sessionFeature({ ...values, location: "not_safe" }, { point: { lng: 31.2, lat: 49.1 } });
  assert.equal(hidden.geometry, null);
  assert.equal(hidden.properties.location_safe_to_record, false);
  assert.equal(hidden.properties.admin, "ZZ0101");
});


test("a problem's pointer names the form field its message goes beside", () => {
  assert.equal(fieldForPointer("/properties/session_date"), "session_date");
  assert.equal(fieldForPointer("/properties/beneficiaries/0/count"), "beneficiaries");
  assert.equal(fieldForPointer("/properties/admin"), "admin");
  assert.equal(fieldForPointer("/geometry"), "location");
  assert.equal(fieldForPointer("/properties/location_safe_to_record"), "location");
  assert.equal(fieldForPointer(""), null);
  assert.equal(fieldForPointer(undefined), null);
});
