// What the hand-written peers share: their IndexedDB record (one put per step in a
// strict-durability transaction, resolved once committed) and their labelled form.
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { type FormEvent, useState } from 'react';
import { type CheckoutStep, fieldErrors } from './checkout.ts';

/** A peer's stored checkout: the step it is at and the data entered so far. */
export interface PeerRecord {
  id: string;
  step: string;
  data: Record<string, unknown>;
  updatedAt: number;
}

interface PeerDatabase extends DBSchema {
  checkouts: { key: string; value: PeerRecord };
}

/** A peer's database; `save` resolves once the record is committed with `durability`. */
export async function peerStore(name: string, durability: 'strict' | 'relaxed' = 'strict') {
  const db: IDBPDatabase<PeerDatabase> = await openDB<PeerDatabase>(name, 1, {
    upgrade(database) {
      database.createObjectStore('checkouts', { keyPath: 'id' });
    },
  });
  return {
    async save(record: PeerRecord): Promise<void> {
      const tx = db.transaction('checkouts', 'readwrite', { durability });
      await Promise.all([tx.store.put(record), tx.done]);
    },
    get: (id: string) => db.get('checkouts', id),
  };
}

/** A peer's store, as `peerStore` resolves it. */
export type PeerStore = Awaited<ReturnType<typeof peerStore>>;

/**
 * One step's form as a peer writes it: labelled uncontrolled inputs, zod
 * validation on submit with the errors beside the fields, then `commit(values)`
 * (which saves and moves on).
 */
export function PeerForm({ step, commit, canGoBack, back }: { step: CheckoutStep; commit: (values: Record<string, unknown>) => Promise<void>; canGoBack: boolean; back: () => void }) {
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const parsed = step.schema.safeParse(Object.fromEntries(new FormData(event.currentTarget)));
    if (!parsed.success) return setErrors(fieldErrors(parsed.error));
    await commit(parsed.data as Record<string, unknown>);
  };
  return (
    <form noValidate onSubmit={onSubmit}>
      {step.fields.map(({ name, label }) => (
        <div key={name}>
          <label htmlFor={`${step.id}-${name}`}>{label}</label>
          <input id={`${step.id}-${name}`} name={name} aria-invalid={errors[name] ? true : undefined} />
          {errors[name] && <p role="alert">{errors[name].join(' ')}</p>}
        </div>
      ))}
      {canGoBack && (
        <button type="button" onClick={back}>
          Back
        </button>
      )}
      <button type="submit">Continue</button>
    </form>
  );
}
