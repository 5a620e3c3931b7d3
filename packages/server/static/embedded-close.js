// @ts-check
/**
 * The last page of the embeddable component's OAuth2 popup: the component learns the outcome
 * by polling, so this page only closes its window (browsers allow it for a script-opened one).
 */
window.close();
