import { z } from 'zod';
import { action, defineFlow, scaffold } from '../../src/core/definition.ts';

const name = action({ id: 'name', title: 'Your name', schema: z.object({ name: z.string().min(1) }) });
const email = action({ id: 'email', title: 'Your email', schema: z.object({ email: z.string().includes('@') }) });
const survey = action({ id: 'survey', title: 'A short survey' });
const confirm = action({ id: 'confirm', title: 'Confirm' });

/** Version 1 of a small sign-up flow: name, email, survey, confirm. */
export const signupV1 = defineFlow({ id: 'signup', version: 1, title: 'Sign up', children: [name, email, survey, confirm] });

/** Version 2: the survey is gone, and `email` moved into a `contact` scaffold. */
export const signupV2 = defineFlow({
  id: 'signup',
  version: 2,
  title: 'Sign up',
  children: [name, scaffold({ id: 'contact', title: 'Contact', children: [email] }), confirm],
});

/** Version 3: email and confirm are gone too; a `plan` step replaces them. */
export const signupV3 = defineFlow({
  id: 'signup',
  version: 3,
  title: 'Sign up',
  children: [name, action({ id: 'plan', title: 'Your plan' })],
});

/** Another flow, to check records are never opened by the wrong one. */
export const otherFlow = defineFlow({ id: 'other', version: 1, title: 'Other', children: [action({ id: 'only', title: 'Only' })] });
