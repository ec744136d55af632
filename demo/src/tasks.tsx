import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { compile } from '../../src/core/index.ts';
import { browserBinder, type StateStore, type TaskSummary } from '../../src/persist/index.ts';
import { checkout } from './services.ts';

const { model } = compile(checkout);

/** The tasks in progress in this browser, with links to resume them and buttons to discard them. */
export function TasksPage({ store }: { store: StateStore }) {
  const [tasks, setTasks] = useState<TaskSummary[] | null>(null);
  const [binder, setBinder] = useState<string | null>(null);
  useEffect(() => {
    browserBinder().then(async (value) => {
      setBinder(value);
      setTasks(await store.list(value));
    });
  }, [store]);
  const discard = async (id: string) => {
    if (!binder) return;
    await store.delete(id, binder);
    setTasks(await store.list(binder));
  };
  return (
    <section className="card">
      <h1>Tasks in progress</h1>
      {tasks === null ? (
        <p role="status">Loading…</p>
      ) : tasks.length === 0 ? (
        <p>No tasks in progress in this browser.</p>
      ) : (
        <ul className="tasks">
          {tasks.map((t) => {
            const step = t.step ? model.nodes.get(t.step) : undefined;
            return (
              <li key={t.id}>
                <span>
                  <strong>{t.flowId}</strong>: {step?.node.title ?? 'finished'}
                  <small> · last active {new Date(t.lastActiveAt).toLocaleTimeString()}</small>
                </span>
                <span className="row">
                  <Link className="button" to={`/checkout${step?.url ?? ''}?_id=${t.id}`}>
                    Resume
                  </Link>
                  <button type="button" className="secondary" onClick={() => discard(t.id)}>
                    Discard
                  </button>
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
