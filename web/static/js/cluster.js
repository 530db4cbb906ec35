// Grid clustering of points in screen space (pure; web/tests/cluster.test.mjs).
// points: [{x, y, ...}] in pixels at the current zoom; cell: cell size in pixels.
// Returns [{x, y, count, members}] where x, y is the members' mean.
export function gridCluster(points, cell = 60) {
  const cells = new Map();
  for (const p of points) {
    const key = `${Math.floor(p.x / cell)}:${Math.floor(p.y / cell)}`;
    let c = cells.get(key);
    if (!c) cells.set(key, (c = { sx: 0, sy: 0, members: [] }));
    c.sx += p.x; c.sy += p.y; c.members.push(p);
  }
  return [...cells.values()].map((c) => ({
    x: c.sx / c.members.length, y: c.sy / c.members.length, count: c.members.length, members: c.members,
  }));
}
