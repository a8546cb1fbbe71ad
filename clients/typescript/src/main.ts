// The round trip of an integration: a number for each provider and SIP
// mode, a paged list, updates (a secret rotated alone, a mode switched, a
// rename), deletes. Prints ids, numbers and configurations, never a secret.
import {
  CreatePhoneNumberDocument,
  DeletePhoneNumberDocument,
  PhoneNumbersDocument,
  UpdatePhoneNumberDocument,
  type CreatePhoneNumberInput,
  type PhoneNumberFieldsFragment,
  type PhoneNumbersQuery,
  type UpdatePhoneNumberInput,
} from "./generated/graphql";
import { Switchboard, saved } from "./switchboard";

const NUMBERS: CreatePhoneNumberInput[] = [
  {
    number: "+1 415 555 0123",
    name: "Front desk",
    provider: { twilio: { accountSid: "AC0123456789abcdef0123456789abcdef", authToken: "example-twilio-auth-token" } },
  },
  {
    number: "+44 20 7946 0958",
    name: "London PBX",
    provider: {
      sip: {
        registration: {
          username: "agent-1",
          password: "example-sip-password",
          proxy: "pbx.example.com",
          port: 5061,
          registerTransport: "TLS",
        },
      },
    },
  },
  {
    number: "+49 30 901820",
    name: "Berlin SBC",
    provider: { sip: { ipAllowlist: { ip: "203.0.113.10", protocol: "TCP" } } },
  },
  { number: "+33 1 23 45 67 89", name: "Paris", provider: { voximplant: { applicationId: "10451" } } },
  {
    number: "+61 2 9374 4000",
    name: "Sydney",
    provider: { jambonz: { applicationSid: "7d3f2a10-0000-4000-8000-000000000001" } },
  },
];

function describe(phoneNumber: PhoneNumberFieldsFragment): string {
  const config = phoneNumber.config;
  switch (config.__typename) {
    case "TwilioConfig":
      return `twilio ${config.accountSid} authTokenSet=${config.authTokenSet}`;
    case "SipRegistrationConfig":
      return `sip ${phoneNumber.sipMode} ${config.username}@${config.proxy}:${config.port} ${config.registerTransport} passwordSet=${config.passwordSet}`;
    case "SipIpAllowlistConfig":
      return `sip ${phoneNumber.sipMode} ${config.ip}:${config.port} ${config.protocol}`;
    case "VoximplantConfig":
      return `voximplant application ${config.applicationId ?? "none"}`;
    case "JambonzConfig":
      return `jambonz application ${config.applicationSid ?? "none"}`;
  }
}

async function listAll(switchboard: Switchboard): Promise<void> {
  let after: string | null = null;
  let page = 0;
  for (;;) {
    const { phoneNumbers }: PhoneNumbersQuery = await switchboard.execute(PhoneNumbersDocument, { first: 2, after });
    page += 1;
    console.log(`page ${page}: ${phoneNumbers.edges.map((edge) => edge.node.number).join(" ")}`);
    if (!phoneNumbers.pageInfo.hasNextPage) {
      console.log(`listed ${phoneNumbers.totalCount}`);
      return;
    }
    after = phoneNumbers.pageInfo.endCursor;
  }
}

async function main(): Promise<void> {
  const switchboard = Switchboard.fromEnvironment();

  const created: PhoneNumberFieldsFragment[] = [];
  for (const input of NUMBERS) {
    const { createPhoneNumber } = await switchboard.execute(CreatePhoneNumberDocument, { input });
    const phoneNumber = saved(createPhoneNumber, createPhoneNumber.phoneNumber);
    created.push(phoneNumber);
    console.log(`created ${phoneNumber.id} ${phoneNumber.number} ${describe(phoneNumber)}`);
  }
  const [twilio, , allowlist, voximplant, jambonz] = created as [
    PhoneNumberFieldsFragment, PhoneNumberFieldsFragment, PhoneNumberFieldsFragment, PhoneNumberFieldsFragment, PhoneNumberFieldsFragment,
  ];

  const duplicate = "+1 (415) 555-0123";
  const { createPhoneNumber: refused } = await switchboard.execute(CreatePhoneNumberDocument, {
    input: { number: duplicate, provider: { voximplant: {} } },
  });
  for (const error of refused.userErrors) {
    console.log(`refused ${duplicate}: ${error.code} at ${error.field.join(".")}`);
  }

  await listAll(switchboard);

  const updates: UpdatePhoneNumberInput[] = [
    // One secret rotated alone; the account SID stays.
    { id: twilio.id, provider: { twilio: { authToken: "example-rotated-auth-token" } } },
    // Another SIP mode: a whole configuration, the old one erased.
    {
      id: allowlist.id,
      provider: { sip: { registration: { username: "agent-2", password: "example-sip-password-2", proxy: "sbc.example.com" } } },
    },
    { id: voximplant.id, name: "Paris office" },
  ];
  for (const input of updates) {
    const { updatePhoneNumber } = await switchboard.execute(UpdatePhoneNumberDocument, { input });
    const phoneNumber = saved(updatePhoneNumber, updatePhoneNumber.phoneNumber);
    console.log(`updated ${phoneNumber.id} ${phoneNumber.name} ${describe(phoneNumber)}`);
  }

  for (const { id } of [voximplant, jambonz]) {
    const { deletePhoneNumber } = await switchboard.execute(DeletePhoneNumberDocument, { id });
    console.log(`deleted ${saved(deletePhoneNumber, deletePhoneNumber.deletedId)}`);
  }

  await listAll(switchboard);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
