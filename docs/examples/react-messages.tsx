import type { ReactNode } from 'react';
import { indexedDbStore } from 'wayflow/persist';
import { type WayflowMessages, WayflowProvider } from 'wayflow/react';

/** Every string wayflow's components show, in German (typed as the full list, so none is forgotten). */
export const german: WayflowMessages = {
  loading: 'Wird geladen…',
  continue: 'Weiter',
  back: 'Zurück',
  retry: 'Erneut versuchen',
  startOver: 'Neu beginnen',
  chooseOne: 'Bitte wählen',
  choiceMissing: 'Bitte wählen Sie eine der Möglichkeiten.',
  invalidInput: 'Bitte prüfen Sie die markierten Felder.',
  failed: 'Etwas ist schiefgegangen. Bitte versuchen Sie es erneut.',
  conflict: 'Dies wurde in einem anderen Tab geändert. Laden Sie die Seite neu, um fortzufahren.',
  progress: 'Fortschritt',
  stepOf: (current, total) => `Schritt ${current} von ${total}`,
  announce: (current, total, title) => `Schritt ${current} von ${total}: ${title}`,
  done: (flow) => `${flow}: abgeschlossen`,
  stopped: (flow) => `${flow}: abgebrochen`,
  expired: 'Dieser Vorgang ist abgelaufen',
  expiredText: 'Er war zu lange inaktiv, daher wurden Ihre Eingaben gelöscht.',
  notFound: 'Dieser Vorgang wurde nicht gefunden',
  notFoundText: 'Vielleicht ist er abgeschlossen, oder er gehört zu einem anderen Browser oder Konto.',
  badLink: 'Dieser Link funktioniert nicht',
  badLinkText: 'Die Adresse ist unvollständig oder wurde verändert.',
  cannotOpen: 'Dieser Vorgang konnte nicht geöffnet werden',
  saved: 'Alle Änderungen gespeichert',
  saving: 'Wird gespeichert…',
  offline: (waiting) => `Offline (${waiting} ausstehend)`,
  saveConflict: 'Nicht gespeichert: dies wurde anderswo geändert.',
  saveFailed: 'Ihre Änderungen konnten nicht gespeichert werden.',
  fileChosen: (name) => `Sie hatten ${name} gewählt; bitte wählen Sie die Datei erneut.`,
};

const store = indexedDbStore();

/** The app in German: one `messages` prop; a partial object changes only the strings it names. */
export const GermanApp = ({ children }: { children: ReactNode }) => (
  <WayflowProvider store={store} messages={german}>
    {children}
  </WayflowProvider>
);
