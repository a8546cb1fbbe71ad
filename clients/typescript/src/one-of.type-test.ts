// Compile-time tests of the generated types: `tsc --noEmit` fails when an
// input the schema marks @oneOf stops being "exactly one of" in TypeScript,
// since an @ts-expect-error with no error under it is itself an error.
import {
  CreatePhoneNumberDocument,
  UpdatePhoneNumberDocument,
  type ProviderInput,
  type SipInput,
} from "./generated/graphql";
import type { Switchboard } from "./switchboard";

const twilio = { accountSid: "AC0123456789abcdef0123456789abcdef", authToken: "token" };
const registration = { username: "agent-1", password: "password", proxy: "pbx.example.com" };

export const oneProvider: ProviderInput = { twilio };
export const oneMode: SipInput = { ipAllowlist: { ip: "203.0.113.10" } };

// @ts-expect-error: two providers at once
export const twoProviders: ProviderInput = { twilio, voximplant: {} };

// @ts-expect-error: no provider at all
export const noProvider: ProviderInput = {};

// @ts-expect-error: both SIP modes at once
export const twoModes: SipInput = { registration, ipAllowlist: { ip: "203.0.113.10" } };

export async function twoProvidersInOperations(switchboard: Switchboard): Promise<void> {
  await switchboard.execute(CreatePhoneNumberDocument, {
    // @ts-expect-error: a create with two providers
    input: { number: "+1 415 555 0123", provider: { twilio, jambonz: {} } },
  });
  await switchboard.execute(UpdatePhoneNumberDocument, {
    // @ts-expect-error: an update switching to two SIP modes
    input: { id: "1", provider: { sip: { registration, ipAllowlist: { ip: "203.0.113.10" } } } },
  });
}
