/* global Common, Part1, Part2, Part3 */
// Start the panels and publish the scripting interface (docs/explore.md):
// window.explore.part1 / part2 / part3.

(() => {
  'use strict';
  const { $, noteLines } = Common;
  const data = JSON.parse($('explore-data').textContent);
  const panel = (notes, build) => {
    try {
      return build();
    } catch (err) {
      // one line in the panel; the other panels still work
      noteLines(notes, [`this panel could not start: ${err.message}`]);
      return null;
    }
  };
  window.explore = {
    part1: panel('p1-notes', () => Part1.start(data.part1)),
    part2: panel('p2-notes', () => Part2.start(data.part2)),
    part3: panel('p3-notes', () => Part3.start(data.part3)),
  };
})();
