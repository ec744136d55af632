// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { action, defineFlow } from '../../src/core/index.ts';
import { memoryStore } from '../../src/persist/index.ts';
import { Field, StepForm, WayflowProvider } from '../../src/react/index.ts';
import { FlowRoutes, type FlowRoutesProps } from '../../src/router/index.ts';

afterEach(cleanup);

const name = action({ id: 'name', title: 'Your name', schema: z.object({ name: z.string().min(1) }) });
const greet = action({ id: 'greet', title: 'Hello' });
const hello = defineFlow({ id: 'hello', title: 'Hello', children: [name, greet] });

describe('FlowRoutes typed by the flow', () => {
  it('keys its views by the flow’s step ids and hands them typed data', async () => {
    render(
      <StrictMode>
        <WayflowProvider store={memoryStore()} binder="me" tabs={false}>
          <MemoryRouter initialEntries={['/hello']}>
            <Routes>
              <Route
                path="/hello/*"
                element={
                  <FlowRoutes
                    flow={hello}
                    views={{
                      name: () => (
                        <StepForm>
                          <Field name="name" label="Name" />
                        </StepForm>
                      ),
                      greet: ({ task }) => <p>Nice to meet you, {task.data.name?.name.toUpperCase()}</p>,
                    }}
                  />
                }
              />
            </Routes>
          </MemoryRouter>
        </WayflowProvider>
      </StrictMode>,
    );
    fireEvent.change(await screen.findByLabelText('Name'), { target: { value: 'Ada' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect((await screen.findByText(/Nice to meet you/)).textContent).toBe('Nice to meet you, ADA');
  });

  it('refuses a view under a step id the flow does not have', () => {
    expectTypeOf<keyof NonNullable<FlowRoutesProps<typeof hello>['views']>>().toEqualTypeOf<'name' | 'greet'>();
    // @ts-expect-error a misspelt step id
    const misspelt = <FlowRoutes flow={hello} views={{ greeet: () => null }} />;
    expect(misspelt.props.flow).toBe(hello);
  });
});
