import { z } from 'zod';

/** Luhn checksum of a card number's digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** ISO 13616 mod-97 check of an IBAN without spaces. */
export function ibanValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = /\d/.test(ch) ? ch : String(ch.charCodeAt(0) - 55);
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

const email = z.email('Enter a valid email address').transform((e) => e.toLowerCase());

export const quantitySchema = z.object({
  quantity: z.coerce.number().int('Whole numbers only').min(1, 'At least 1').max(10, 'At most 10'),
});
export const loginSchema = z.object({ email, password: z.string().min(1, 'Enter your password') });
export const registerSchema = z.object({
  name: z.string().trim().min(1, 'Enter your name'),
  email,
  password: z.string().min(8, 'Use at least 8 characters'),
});
export const resetEmailSchema = z.object({ email });
export const resetCodeSchema = z.object({ code: z.string().regex(/^\d{6}$/, 'The code has 6 digits') });
export const resetPasswordSchema = z
  .object({ password: z.string().min(8, 'Use at least 8 characters'), confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'The passwords differ' });
export const savedMethodSchema = z.object({ methodId: z.string().min(1, 'Choose a saved method') });
export const cardSchema = z.object({
  holder: z.string().trim().min(1, 'Enter the name on the card'),
  number: z
    .string()
    .transform((n) => n.replace(/[\s-]/g, ''))
    .refine((n) => /^\d{12,19}$/.test(n) && luhnValid(n), 'Enter a valid card number'),
  expiry: z.string().regex(/^(0[1-9]|1[0-2])\/\d{2}$/, 'Use MM/YY'),
  cvc: z.string().regex(/^\d{3,4}$/, '3 or 4 digits'),
});
export const bankAccountSchema = z.object({
  holder: z.string().trim().min(1, 'Enter the account holder'),
  iban: z
    .string()
    .transform((i) => i.replace(/\s/g, '').toUpperCase())
    .refine(ibanValid, 'Enter a valid IBAN'),
});
export const addressSchema = z.object({
  street: z.string().trim().min(1, 'Enter the street'),
  city: z.string().trim().min(1, 'Enter the city'),
  postcode: z.string().trim().min(3, 'Enter the postcode'),
  country: z.string().trim().length(2, 'Two-letter country code'),
});
export const paypalSchema = z.object({ email });
