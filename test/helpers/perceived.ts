/** Everything a person perceives on the page: its text and the accessible labels. */
export const perceived = (): string =>
  [document.body.textContent ?? '', ...[...document.querySelectorAll('[aria-label]')].map((el) => el.getAttribute('aria-label'))].join('\n');
