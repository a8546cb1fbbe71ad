// The round trip of an integration, leaving nothing behind: an agent, a
// number for each provider and SIP mode answered by it, a refused duplicate,
// the agent's numbers page by page, updates (a secret rotated alone, a mode
// switched, a rename), the renamed number refetched by its id through `node`,
// then everything it created deleted, also when a step failed. The numbers
// are fresh each run, from ranges set aside for fiction that no other example
// uses, so it runs again and again on one organization.
// Prints what it does, never a secret. clients/README.md shows the output.
import {
  CreateAgentDocument,
  CreatePhoneNumberDocument,
  DeleteAgentDocument,
  DeletePhoneNumberDocument,
  PhoneNumbersDocument,
  RefetchPhoneNumberDocument,
  UpdatePhoneNumberDocument,
  type CreateAgentMutation,
  type CreatePhoneNumberInput,
  type PhoneNumberFieldsFragment,
  type PhoneNumbersQuery,
  type UpdatePhoneNumberInput,
} from "./generated/graphql";
import { Switchboard, saved } from "./switchboard";

type Agent = NonNullable<CreateAgentMutation["createAgent"]["agent"]>;
type PhoneNumber = PhoneNumberFieldsFragment;

interface Created {
  agent: Agent | null;
  numbers: PhoneNumber[];
}

/** `prefix` and `digits` random digits: a fresh number in a range reserved for fiction. */
function fictional(prefix: string, digits: number): string {
  return prefix + Array.from({ length: digits }, () => Math.floor(Math.random() * 10)).join("");
}

function numbersFor(agent: Agent): CreatePhoneNumberInput[] {
  return [
    {
      number: fictional("+1 312 555 01", 2),
      name: "Front desk",
      agentId: agent.id,
      provider: { twilio: { accountSid: "AC0123456789abcdef0123456789abcdef", authToken: "example-twilio-auth-token" } },
    },
    {
      number: fictional("+44 161 496 0", 3),
      name: "Manchester PBX",
      agentId: agent.id,
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
      number: fictional("+44 113 496 0", 3),
      name: "Leeds SBC",
      agentId: agent.id,
      provider: { sip: { ipAllowlist: { ip: "203.0.113.10", protocol: "TCP" } } },
    },
    {
      number: fictional("+33 1 99 00 ", 4),
      name: "Paris",
      agentId: agent.id,
      provider: { voximplant: { applicationId: "10451" } },
    },
    {
      number: fictional("+61 2 5550 ", 4),
      name: "Sydney",
      agentId: agent.id,
      provider: { jambonz: { applicationSid: "7d3f2a10-0000-4000-8000-000000000001" } },
    },
  ];
}

function describe(phoneNumber: PhoneNumber): string {
  const config = phoneNumber.config;
  switch (config.__typename) {
    case "TwilioConfig":
      return `Twilio, account ${config.accountSid}, auth token ${config.authTokenSet ? "stored" : "missing"}`;
    case "SipRegistrationConfig":
      return `SIP registration, ${config.username}@${config.proxy}:${config.port} over ${config.registerTransport},`
        + ` password ${config.passwordSet ? "stored" : "missing"}`;
    case "SipIpAllowlistConfig":
      return `SIP IP allowlist, ${config.ip}:${config.port} over ${config.protocol}`;
    case "VoximplantConfig":
      return `Voximplant, application ${config.applicationId ?? "none"}`;
    case "JambonzConfig":
      return `jambonz, application ${config.applicationSid ?? "none"}`;
  }
}

function show(phoneNumber: PhoneNumber): string {
  return `${phoneNumber.number} "${phoneNumber.name ?? ""}" (${phoneNumber.id}): ${describe(phoneNumber)}`;
}

/** A North American number in E.164, written as people do: +1 (312) 555-0147. */
function asWritten(e164: string): string {
  return `+1 (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`;
}

async function listNumbersOf(switchboard: Switchboard, agent: Agent): Promise<void> {
  console.log("The agent's numbers, newest first, 2 a page:");
  let after: string | null = null;
  for (let page = 1; ; page += 1) {
    const { phoneNumbers }: PhoneNumbersQuery = await switchboard.execute(PhoneNumbersDocument, {
      first: 2,
      after,
      filter: { agentId: agent.id },
    });
    console.log(`  page ${page}: ${phoneNumbers.edges.map((edge) => edge.node.number).join(" ")}`);
    if (!phoneNumbers.pageInfo.hasNextPage) {
      console.log(`  ${phoneNumbers.totalCount} in all.`);
      return;
    }
    after = phoneNumbers.pageInfo.endCursor;
  }
}

/** The number `id` names, read again through `node`, which answers any object by its id. */
async function refetch(switchboard: Switchboard, id: string): Promise<PhoneNumber> {
  const { node } = await switchboard.execute(RefetchPhoneNumberDocument, { id });
  if (node?.__typename !== "PhoneNumber") {
    throw new Error(`node(id: "${id}") answered ${node ? `a ${node.__typename}` : "null"}, not a phone number`);
  }
  return node;
}

async function roundTrip(switchboard: Switchboard, created: Created): Promise<void> {
  const { createAgent } = await switchboard.execute(CreateAgentDocument, { name: "Example receptionist" });
  const agent = saved(createAgent, createAgent.agent);
  created.agent = agent;
  console.log(`Created agent "${agent.name}" (${agent.id}).`);

  for (const input of numbersFor(agent)) {
    const { createPhoneNumber } = await switchboard.execute(CreatePhoneNumberDocument, { input });
    const phoneNumber = saved(createPhoneNumber, createPhoneNumber.phoneNumber);
    created.numbers.push(phoneNumber);
    console.log(`Created ${show(phoneNumber)}.`);
  }
  const [twilio, , allowlist, voximplant] = created.numbers as [PhoneNumber, PhoneNumber, PhoneNumber, PhoneNumber];

  const duplicate = asWritten(twilio.number);
  const { createPhoneNumber: refused } = await switchboard.execute(CreatePhoneNumberDocument, {
    input: { number: duplicate, provider: { voximplant: {} } },
  });
  if (refused.phoneNumber) {
    created.numbers.push(refused.phoneNumber);
    throw new Error(`${duplicate} was saved a second time`);
  }
  for (const error of refused.userErrors) {
    const where = error.field.join(".");
    console.log(`Refused "${duplicate}", the first number written another way: ${error.code} at ${where}.`);
  }

  await listNumbersOf(switchboard, agent);

  const updates: [UpdatePhoneNumberInput, (phoneNumber: PhoneNumber) => string][] = [
    // One secret rotated alone; the account SID stays.
    [
      { id: twilio.id, provider: { twilio: { authToken: "example-rotated-auth-token" } } },
      (phoneNumber) => `Rotated the auth token of ${phoneNumber.number} alone`,
    ],
    // Another SIP mode: a whole configuration, the old one erased.
    [
      {
        id: allowlist.id,
        provider: {
          sip: { registration: { username: "agent-2", password: "example-sip-password-2", proxy: "sbc.example.com" } },
        },
      },
      (phoneNumber) => `Switched ${phoneNumber.number} from IP allowlist to registration`,
    ],
    [
      { id: voximplant.id, name: "Paris office" },
      (phoneNumber) => `Renamed ${phoneNumber.number} "${phoneNumber.name ?? ""}"`,
    ],
  ];
  for (const [input, done] of updates) {
    const { updatePhoneNumber } = await switchboard.execute(UpdatePhoneNumberDocument, { input });
    const phoneNumber = saved(updatePhoneNumber, updatePhoneNumber.phoneNumber);
    console.log(`${done(phoneNumber)}: ${describe(phoneNumber)}.`);
  }

  console.log(`Refetched by id through node: ${show(await refetch(switchboard, voximplant.id))}.`);
}

/** Deletes what `created` holds, each on its own; the number of deletes that failed. */
async function removeCreated(switchboard: Switchboard, created: Created): Promise<number> {
  let failed = 0;
  const attempt = async (what: string, remove: () => Promise<unknown>): Promise<void> => {
    try {
      await remove();
      console.log(`Deleted ${what}.`);
    } catch (error) {
      failed += 1;
      console.error(`Could not delete ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  for (const { id, number } of created.numbers) {
    await attempt(number, async () => {
      const { deletePhoneNumber } = await switchboard.execute(DeletePhoneNumberDocument, { id });
      saved(deletePhoneNumber, deletePhoneNumber.deletedId);
    });
  }
  const agent = created.agent;
  if (agent) {
    await attempt(`agent "${agent.name}"`, async () => {
      const { deleteAgent } = await switchboard.execute(DeleteAgentDocument, { id: agent.id });
      saved(deleteAgent, deleteAgent.deletedId);
    });
  }
  return failed;
}

async function main(): Promise<void> {
  const switchboard = Switchboard.fromEnvironment();
  const created: Created = { agent: null, numbers: [] };
  let failure: unknown = null;
  try {
    await roundTrip(switchboard, created);
  } catch (error) {
    failure = error;
  }
  const leftBehind = await removeCreated(switchboard, created);
  if (failure !== null) throw failure;
  if (leftBehind > 0) throw new Error(`${leftBehind} of the things this run created could not be deleted`);
  console.log("Nothing this run created is left.");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
