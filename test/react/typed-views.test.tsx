// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { action, defineFlow, type FlowData, scaffold, startTask, type StepId } from '../../src/core/index.ts';
import { memoryLocation, memoryStore } from '../../src/persist/index.ts';
import { Field, FlowView, StepForm, type StepViewProps, type StepViews, TaskProvider, useTask, WayflowProvider } from '../../src/react/index.ts';

afterEach(cleanup);

const email = action({ id: 'email', title: 'Your email', schema: z.object({ email: z.email() }) });
const plan = scaffold({
  id: 'plan',
  title: 'Pick a plan',
  transitions: 'choice',
  children: [action({ id: 'free', title: 'Free' }), action({ id: 'pro', title: 'Pro' })],
});
const review = action({ id: 'review', title: 'Review' });
const signup = defineFlow({ id: 'signup', title: 'Sign up', children: [email, plan, review] });

/** Reads the typed data of the flow, without a cast. */
function Review({ task }: StepViewProps<typeof signup>) {
  expectTypeOf(task.data.email).toEqualTypeOf<{ email: string } | undefined>();
  expectTypeOf(task.data.plan).toEqualTypeOf<'free' | 'pro' | undefined>();
  return (
    <p>
      {task.data.email?.email} on the {task.data.plan} plan
    </p>
  );
}

function Summary() {
  const { data, goTo } = useTask<typeof signup>();
  expectTypeOf(data).toEqualTypeOf<FlowData<typeof signup>>();
  expectTypeOf(goTo).parameter(0).toEqualTypeOf<StepId<typeof signup>>();
  return <p>Signed up as {data.email?.email ?? 'nobody yet'}</p>;
}

describe('views typed by the flow', () => {
  it('hands each view the task data typed by the flow, including the option picked', async () => {
    render(
      <StrictMode>
        <WayflowProvider store={memoryStore()} location={memoryLocation('https://shop.test/signup')} tabs={false}>
          <FlowView
            flow={signup}
            views={{
              email: ({ task }) => (
                <StepForm>
                  <Field name="email" label="Email" />
                  <p>{task.data.email?.email ?? 'no email yet'}</p>
                </StepForm>
              ),
              review: Review,
            }}
          />
        </WayflowProvider>
      </StrictMode>,
    );
    fireEvent.change(await screen.findByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    fireEvent.click(await screen.findByRole('radio', { name: 'Pro' }));
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    await screen.findByRole('heading', { level: 1, name: 'Pro' });
    fireEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect((await screen.findByText(/on the/)).textContent).toBe('ada@example.com on the pro plan');
  });

  it('types useTask by the flow named', async () => {
    const task = await startTask(signup);
    await task.submit({ email: 'ada@example.com' });
    render(
      <TaskProvider task={task}>
        <Summary />
      </TaskProvider>,
    );
    expect(screen.getByText('Signed up as ada@example.com')).toBeTruthy();
    const given = (t: typeof task) => useTask(t);
    expectTypeOf<ReturnType<typeof given>['data']>().toEqualTypeOf<FlowData<typeof signup>>();
  });

  it('refuses a view under a step id the flow does not have', () => {
    const views: StepViews<typeof signup> = {
      review: Review,
      // @ts-expect-error a misspelt step id
      emial: () => null,
    };
    // @ts-expect-error a misspelt step id, straight in the props
    const misspelt = <FlowView flow={signup} views={{ reveiw: Review }} />;
    expect(Object.keys(views)).toEqual(['review', 'emial']);
    expect(misspelt.props.flow).toBe(signup);
  });
});
