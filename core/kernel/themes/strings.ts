/**
 * Core interface strings used by the default theme through the `t` helper. A theme may override
 * any of them with its own `strings.json`. Full language packs are a later issue.
 */
export const CORE_STRINGS: Record<string, string> = {
  'site.name': 'Waymark',
  'nav.skip': 'Skip to main content',
  'nav.home': 'Home',
  'nav.login': 'Log in',
  'nav.requiredLearning': 'Required learning',
  'nav.recordOfLearning': 'Record of learning',
  'nav.admin': 'Administration',
  'home.title': 'Learning programs',
  'home.intro': 'Programs you can take part in on this site.',
  'home.empty': 'No programs yet',
  'home.loginPrompt': 'Log in to see your required learning.',
  'error.title': 'Something went wrong',
  'error.back': 'Back to the home page',
  'error.reference': 'Reference: {reqId}',
  'footer.poweredBy': 'Powered by Waymark',
};
