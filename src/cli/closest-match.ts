/** The CLI's "did you mean …?" is the recipe kernel's, so a mistyped flag and a mistyped recipe option read alike. */
export { closestMatch, editDistance } from '../engine/recipe/closest-match.js';
