import { useState } from 'react';
import { z } from 'zod';
import { Field, StepForm } from 'wayflow/react';
import { AutomationFormTask, AutomationTaskList } from 'wayflow/react/automations';
import { automationClient, automationForm, type OpenFormSummary } from 'wayflow/sync';

const client = automationClient();

// The schema of the automation's Form node: share the module between the server and the browser.
const approvalSchema = z.object({
  decision: z.enum(['approve', 'reject'], { error: 'Choose approve or reject' }),
  note: z.string().max(200, 'Keep the note under 200 characters').default(''),
});
const approval = automationForm({ id: 'approve', title: 'Approve the order', schema: approvalSchema, client });

const views = {
  approve: () => (
    <StepForm submitLabel="Send">
      <Field name="decision" label="Decision (approve or reject)" />
      <Field name="note" label="Note for the shopper" />
    </StepForm>
  ),
};

/** The back office's inbox: the open forms, and the one being processed. */
export function Inbox() {
  const [open, setOpen] = useState<OpenFormSummary | null>(null);
  if (open) {
    const done = (
      <>
        <h1>Sent</h1>
        <button type="button" onClick={() => setOpen(null)}>
          Back to the tasks
        </button>
      </>
    );
    return <AutomationFormTask key={`${open.instanceId}/${open.taskId}`} client={client} form={open} flow={approval} views={views} completed={done} />;
  }
  return (
    <>
      <h1>Your tasks</h1>
      <AutomationTaskList client={client} onOpen={setOpen} />
    </>
  );
}
