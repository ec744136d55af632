import { useEffect, useState } from 'react';
import { Funnel } from 'wayflow/react/funnel';
import type { FunnelsResponse, FunnelView } from 'wayflow/sync';

const getJson = (url: string): Promise<unknown> => fetch(url).then((response) => response.json());

/** A back-office page: the funnel of each version of the checkout flow over the last `since` (7d, 24h, a date), with its moves back. */
export function CheckoutFunnel({ since = '7d', fetchJson = getJson }: { since?: string; fetchJson?: (url: string) => Promise<unknown> }) {
  const [funnels, setFunnels] = useState<FunnelView[] | null>(null);
  useEffect(() => {
    fetchJson(`/funnels/checkout?since=${encodeURIComponent(since)}`).then((body) => setFunnels((body as FunnelsResponse).funnels));
  }, [since, fetchJson]);
  if (!funnels) return <p>Counting…</p>;
  if (funnels.length === 0) return <p>No checkout was started in this window.</p>;
  return funnels.map((funnel) => (
    <section key={funnel.flowVersion} aria-label={`Checkout version ${funnel.flowVersion}`}>
      <Funnel title={`Checkout v${funnel.flowVersion}: ${funnel.started} started, ${funnel.completed} completed, ${funnel.abandoned} abandoned`} funnel={funnel} />
      <ul aria-label="Back and go-to moves">
        {funnel.backMoves.map((move) => (
          <li key={`${move.from}>${move.to}`}>{`${move.from} → ${move.to}: ${move.count}`}</li>
        ))}
      </ul>
    </section>
  ));
}
