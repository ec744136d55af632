import { useForm } from 'react-hook-form';
import { useField, useMessages, useStepMessage, useTask } from 'wayflow/react';

/** A step view whose inputs react-hook-form manages; wayflow validates with the action's schema and links the errors. */
export function EmailStep() {
  const { submit, pending } = useTask();
  const message = useStepMessage();
  const { continue: next } = useMessages();
  const { register, handleSubmit } = useForm<{ email: string }>();
  const email = useField('email');
  return (
    <form noValidate onSubmit={handleSubmit((values) => submit(values))}>
      {message && <div role="alert">{message}</div>}
      <label htmlFor={email.id}>Email</label>
      <input type="email" {...email.input} {...register('email')} />
      {email.error && <p {...email.error.props}>{email.error.text}</p>}
      <button type="submit" disabled={pending}>
        {next}
      </button>
    </form>
  );
}
