/**
 * Words shown to people. zh-CN is the default; English is one click away. Screens call
 * `t(key)` and never hold literal text. The choice persists in localStorage.
 */
import { zhCN, type MessageKey } from './zh-CN';
import { en } from './en';

export type Locale = 'zh-CN' | 'en';
export type { MessageKey };

const dictionaries: Record<Locale, Record<MessageKey, string>> = { 'zh-CN': zhCN, en };

function initialLocale(): Locale {
  try {
    return globalThis.localStorage?.getItem('unlockdesk.locale') === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

export const i18n = $state<{ locale: Locale }>({ locale: initialLocale() });

export function setLocale(locale: Locale): void {
  i18n.locale = locale;
  try {
    globalThis.localStorage?.setItem('unlockdesk.locale', locale);
  } catch {
    /* storage unavailable: the choice lasts for this run only */
  }
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
}

export function toggleLocale(): void {
  setLocale(i18n.locale === 'zh-CN' ? 'en' : 'zh-CN');
}

/** Translate `key`, replacing `{name}` placeholders from `params`. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  let text = dictionaries[i18n.locale][key] ?? key;
  if (params) {
    for (const [k, v] of Object.entries(params)) text = text.replaceAll(`{${k}}`, String(v));
  }
  return text;
}

/** Translate a key built at run time (an error code, a state); unknown keys fall back. */
export function tDynamic(key: string, fallback: MessageKey): string {
  return key in zhCN ? t(key as MessageKey) : t(fallback);
}

export function hasKey(key: string): key is MessageKey {
  return key in zhCN;
}
